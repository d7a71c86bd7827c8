import Configuration
import Foundation

/// Typed, validated lookups of catalog keys through swift-configuration (the environment
/// over the file), recording each value as `check-config` prints it. Every error names
/// the key and says what was expected.
struct ConfigValues {
  let reader: ConfigReader
  let sources: ConfigSources
  /// The value of every key that was set, rendered (`30s`, `full`, `a, b`).
  private(set) var rendered: [String: String] = [:]
  /// `rendered` with secrets replaced (``DaemonConfigKey/isSecret(_:)``): what may be shown.
  private(set) var displayed: [String: String] = [:]

  init(reader: ConfigReader, sources: ConfigSources) {
    self.reader = reader
    self.sources = sources
  }

  private func key(_ name: String) -> DaemonConfigKey {
    guard let key = DaemonConfigKey.named(name) else { preconditionFailure("'\(name)' is not in the catalog") }
    return key
  }

  /// Where a key's value comes from, for messages: the variable wins over the file.
  func origin(of name: String) -> String {
    if let variable = sources.environmentKeys[name] { return "from \(variable)" }
    if let line = sources.fileKeys[name]?.line { return "from the file, line \(line)" }
    return "from the file"
  }

  private func invalid(_ name: String, _ value: String, _ expectation: String) -> DaemonConfiguration.Invalid {
    let shown = DaemonConfigKey.isSecret(name) ? DaemonConfigKey.redacted : value
    return DaemonConfiguration.Invalid(key: name, reason: "'\(shown)' (\(origin(of: name))) is not \(expectation)")
  }

  /// The raw text of a single-valued key, nil when unset.
  private func scalar(_ name: String) throws(DaemonConfiguration.Invalid) -> String? {
    if sources.environmentKeys[name] == nil, let file = sources.fileKeys[name] {
      switch file.shape {
      case .list:
        let expected = DaemonConfigKey.named(name)?.expectation ?? "a single value"
        throw .init(key: name, reason: "expected \(expected), got a list")
      case .null: throw .init(key: name, reason: "has no value (\(origin(of: name)))")
      case .scalar: break
      }
    }
    guard sources.environmentKeys[name] != nil || sources.fileKeys[name] != nil else { return nil }
    return reader.string(forKey: ConfigKey(name))
  }

  mutating func text(_ name: String) throws(DaemonConfiguration.Invalid) -> String? {
    guard let value = try scalar(name) else { return nil }
    rendered[name] = value
    return value
  }

  /// A list key: a YAML list, or a comma-separated string.
  mutating func list(_ name: String) throws(DaemonConfiguration.Invalid) -> [String]? {
    guard sources.environmentKeys[name] != nil || sources.fileKeys[name] != nil else { return nil }
    let raw: [String]
    if sources.environmentKeys[name] == nil, sources.fileKeys[name]?.shape == .list {
      raw = reader.stringArray(forKey: ConfigKey(name)) ?? []
    } else if sources.environmentKeys[name] == nil, sources.fileKeys[name]?.shape == .null {
      raw = []
    } else {
      raw = reader.string(forKey: ConfigKey(name)).map { [$0] } ?? []
    }
    let items = raw.flatMap { $0.split(separator: ",") }.map { $0.trimmingCharacters(in: .whitespaces) }
      .filter { !$0.isEmpty }
    rendered[name] = items.joined(separator: ", ")
    return items
  }

  mutating func integer(_ name: String) throws(DaemonConfiguration.Invalid) -> Int? {
    guard let text = try scalar(name) else { return nil }
    guard case .integer(let range) = key(name).kind else { preconditionFailure("\(name) is not an integer key") }
    guard let value = Int(text.trimmingCharacters(in: .whitespaces)), range.contains(value) else {
      throw invalid(name, text, key(name).expectation)
    }
    rendered[name] = String(value)
    return value
  }

  mutating func decimal(_ name: String) throws(DaemonConfiguration.Invalid) -> Double? {
    guard let text = try scalar(name) else { return nil }
    guard case .decimal(let range) = key(name).kind else { preconditionFailure("\(name) is not a decimal key") }
    guard let value = Double(text.trimmingCharacters(in: .whitespaces)), value.isFinite, range.contains(value) else {
      throw invalid(name, text, key(name).expectation)
    }
    rendered[name] = String(value)
    return value
  }

  mutating func bool(_ name: String) throws(DaemonConfiguration.Invalid) -> Bool? {
    guard let text = try scalar(name) else { return nil }
    let value: Bool
    switch text.trimmingCharacters(in: .whitespaces).lowercased() {
    case "true", "yes", "on", "1": value = true
    case "false", "no", "off", "0": value = false
    default: throw invalid(name, text, key(name).expectation)
    }
    rendered[name] = String(value)
    return value
  }

  mutating func duration(_ name: String) throws(DaemonConfiguration.Invalid) -> Duration? {
    guard let text = try scalar(name) else { return nil }
    guard case .duration(let min, let max) = key(name).kind else { preconditionFailure("\(name) is not a duration") }
    guard let value = DurationParsing.parse(text), value >= min, value <= max else {
      throw invalid(name, text, key(name).expectation)
    }
    rendered[name] = DurationParsing.format(value)
    return value
  }

  mutating func choice(_ name: String) throws(DaemonConfiguration.Invalid) -> String? {
    guard let text = try scalar(name) else { return nil }
    guard case .choice(let values) = key(name).kind else { preconditionFailure("\(name) is not a choice") }
    let value = text.trimmingCharacters(in: .whitespaces).lowercased()
    guard values.contains(value) else { throw invalid(name, text, key(name).expectation) }
    rendered[name] = value
    return value
  }

  /// `host:port` (an IPv6 host in brackets: `[::1]:9464`).
  mutating func address(_ name: String) throws(DaemonConfiguration.Invalid) -> (host: String, port: Int)? {
    guard let text = try scalar(name) else { return nil }
    let trimmed = text.trimmingCharacters(in: .whitespaces)
    guard let colon = trimmed.lastIndex(of: ":"), let port = Int(trimmed[trimmed.index(after: colon)...]),
      (0...65_535).contains(port)
    else { throw invalid(name, text, "host:port with a port in 0...65535") }
    var host = String(trimmed[..<colon])
    if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    guard !host.isEmpty, !host.contains(where: \.isWhitespace) else { throw invalid(name, text, "host:port") }
    rendered[name] = trimmed
    return (host, port)
  }

  /// The librdkafka properties set below a `.properties` key, file and environment merged.
  mutating func properties(_ name: String) throws(DaemonConfiguration.Invalid) -> [String: String] {
    let prefix = name + "."
    let names = Set(sources.fileKeys.keys.filter { $0.hasPrefix(prefix) })
      .union(sources.environmentKeys.keys.filter { $0.hasPrefix(prefix) })
    var properties: [String: String] = [:]
    for full in names.sorted() {
      guard let value = try scalar(full), !value.isEmpty else {
        throw .init(key: full, reason: "a librdkafka property needs a value")
      }
      properties[String(full.dropFirst(prefix.count))] = value
    }
    if !properties.isEmpty {
      let sorted = properties.sorted { $0.key < $1.key }
      rendered[name] = sorted.map { "\($0.key)=\($0.value)" }.joined(separator: ", ")
      displayed[name] = sorted.map { property in
        "\(property.key)=\(DaemonConfigKey.isSecret(property.key) ? DaemonConfigKey.redacted : property.value)"
      }.joined(separator: ", ")
    }
    return properties
  }
}
