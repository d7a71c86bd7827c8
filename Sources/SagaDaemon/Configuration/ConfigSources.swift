import Foundation
import Yams

/// The keys a configuration actually sets, walked from the YAML file and the `SAGAD_*`
/// environment. swift-configuration answers lookups but cannot list what a file holds,
/// and an unknown key (a typo such as `consumer.batchmax`) must stop sagad instead of
/// being ignored.
struct ConfigSources: Sendable {
  enum Shape: Sendable, Hashable {
    case scalar
    case list
    case null
  }

  /// Flattened file keys (`kafka.brokers`) with the shape of their value and line.
  var fileKeys: [String: (shape: Shape, line: Int?)] = [:]
  /// Configuration keys set by the environment, by key name → variable name.
  var environmentKeys: [String: String] = [:]
  /// libpq's `PGPASSWORD`, the PostgreSQL password when `storage.postgres.password_file` is unset.
  var postgresPassword: String?

  /// Reads `file` (nil: none) and `environment`; throws the first unknown or malformed key.
  init(file: String?, environment: [String: String]) throws(DaemonConfiguration.Invalid) {
    if let file { try readFile(file) }
    postgresPassword = environment["PGPASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
    try readEnvironment(environment)
  }

  private mutating func readFile(_ path: String) throws(DaemonConfiguration.Invalid) {
    let text: String
    do {
      text = try String(contentsOfFile: path, encoding: .utf8)
    } catch {
      throw .init(key: "--config", reason: "cannot read \(path): \(error.localizedDescription)")
    }
    let root: Node?
    do {
      root = try Yams.compose(yaml: text)
    } catch {
      throw .init(key: "--config", reason: "\(path) is not valid YAML: \(error)")
    }
    guard let root else { return }  // an empty file sets nothing
    guard let mapping = root.mapping else {
      throw .init(key: "--config", reason: "\(path) must hold a mapping of keys at the top level")
    }
    try walk(mapping, prefix: "")
  }

  private mutating func walk(_ mapping: Node.Mapping, prefix: String) throws(DaemonConfiguration.Invalid) {
    for (keyNode, value) in mapping {
      guard let component = keyNode.string, !component.isEmpty else {
        throw .init(key: prefix.isEmpty ? "--config" : prefix, reason: "a key that is not a string")
      }
      let key = prefix.isEmpty ? component : prefix + "." + component
      let line = keyNode.mark?.line
      if let nested = value.mapping {
        try walk(nested, prefix: key)
        continue
      }
      let shape: Shape
      if let sequence = value.sequence {
        guard sequence.allSatisfy({ $0.scalar != nil }) else {
          throw .init(key: key, reason: "a list may hold plain values only")
        }
        shape = .list
      } else if value.null != nil {
        shape = .null
      } else {
        shape = .scalar
      }
      // `admin:` with nothing below it is an empty section, not a key.
      if shape == .null, DaemonConfigKey.all.contains(where: { $0.name.hasPrefix(key + ".") }) { continue }
      try Self.checkKnown(key, source: "in the file" + (line.map { " at line \($0)" } ?? ""))
      fileKeys[key] = (shape, line)
    }
  }

  private mutating func readEnvironment(_ environment: [String: String]) throws(DaemonConfiguration.Invalid) {
    let keysByVariable = Dictionary(uniqueKeysWithValues: DaemonConfigKey.all.map { ($0.environmentName, $0.name) })
    for variable in environment.keys.sorted() where variable.hasPrefix("SAGAD_") {
      if DaemonConfigKey.nonKeyEnvironment.contains(variable) { continue }
      if let key = keysByVariable[variable] {
        environmentKeys[key] = variable
        continue
      }
      // librdkafka properties are dotted lower-case names without underscores, so
      // SAGAD_KAFKA_CONSUMER_FETCH_WAIT_MAX_MS maps back to fetch.wait.max.ms.
      if let passthrough = DaemonConfigKey.all.first(where: {
        $0.kind == .properties && variable.hasPrefix($0.environmentName + "_")
      }) {
        let property = variable.dropFirst(passthrough.environmentName.count + 1).lowercased()
          .replacingOccurrences(of: "_", with: ".")
        environmentKeys[passthrough.name + "." + property] = variable
        continue
      }
      var reason = "unknown environment variable: no configuration key maps to it (Docs/configuration.md lists them)"
      let asKey = variable.dropFirst("SAGAD_".count).lowercased().replacingOccurrences(of: "_", with: ".")
      if let near = Self.nearest(to: asKey) {
        reason += "; did you mean \(DaemonConfigKey.environmentName(of: near))?"
      }
      throw .init(key: variable, reason: reason)
    }
  }

  /// Throws unless `key` is in the catalog or under a passthrough prefix.
  static func checkKnown(_ key: String, source: String) throws(DaemonConfiguration.Invalid) {
    if DaemonConfigKey.named(key) != nil, DaemonConfigKey.named(key)?.kind != .properties { return }
    if DaemonConfigKey.propertiesKey(containing: key) != nil { return }
    var reason = "unknown key \(source)"
    if let near = nearest(to: key) { reason += "; did you mean '\(near)'?" }
    throw .init(key: key, reason: reason)
  }

  /// The catalog key closest to a misspelt one, if any is close.
  private static func nearest(to key: String) -> String? {
    let scored = DaemonConfigKey.all.map { ($0.name, distance(key, $0.name)) }.min { $0.1 < $1.1 }
    guard let (name, score) = scored, score <= max(2, key.count / 4) else { return nil }
    return name
  }

  /// Levenshtein distance, small strings only.
  private static func distance(_ a: String, _ b: String) -> Int {
    let a = Array(a)
    let b = Array(b)
    var previous = Array(0...b.count)
    for (i, x) in a.enumerated() {
      var current = [i + 1]
      for (j, y) in b.enumerated() {
        current.append(min(previous[j + 1] + 1, current[j] + 1, previous[j] + (x == y ? 0 : 1)))
      }
      previous = current
    }
    return previous[b.count]
  }
}
