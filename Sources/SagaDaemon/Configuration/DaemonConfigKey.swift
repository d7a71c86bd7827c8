import Foundation

/// One key of sagad's configuration: its name, the shape of its value, its default as
/// documented, and whether SIGHUP applies it to a running sagad. The catalog
/// (`DaemonConfigKey.all`) is the one list that the loader, unknown-key detection,
/// `check-config` and Docs/configuration.md follow.
struct DaemonConfigKey: Sendable, Hashable {
  enum Kind: Sendable, Hashable {
    case text
    /// A YAML list, or a comma-separated string (the environment's form).
    case list
    case integer(ClosedRange<Int>)
    case decimal(ClosedRange<Double>)
    case bool
    case duration(min: Duration, max: Duration)
    case choice([String])
    /// `host:port`.
    case address
    /// Any librdkafka property below the key (`kafka.consumer.fetch.wait.max.ms`).
    case properties
  }

  let name: String
  let kind: Kind
  /// The default as Docs/configuration.md and `check-config` show it; "" = none/required.
  let defaultValue: String
  let summary: String
  /// Whether SIGHUP applies a change without a restart.
  let reloadable: Bool

  init(_ name: String, _ kind: Kind, _ defaultValue: String, reloadable: Bool = false, _ summary: String) {
    self.name = name
    self.kind = kind
    self.defaultValue = defaultValue
    self.summary = summary
    self.reloadable = reloadable
  }

  /// `SAGAD_` + the key upper-cased, `.` → `_` (`kafka.brokers` → `SAGAD_KAFKA_BROKERS`).
  var environmentName: String { Self.environmentName(of: name) }

  static func environmentName(of key: String) -> String {
    "SAGAD_" + key.uppercased().replacingOccurrences(of: ".", with: "_")
  }

  /// What a value must look like, for error messages and the docs.
  var expectation: String {
    switch kind {
    case .text: "a string"
    case .list: "a list (or a comma-separated string)"
    case .integer(let range): "an integer in \(range.lowerBound)...\(range.upperBound)"
    case .decimal(let range): "a number in \(range.lowerBound)...\(range.upperBound)"
    case .bool: "true or false"
    case .duration(let min, let max):
      "a duration (500ms, 1s, 2m, or seconds) from \(DurationParsing.format(min)) to \(DurationParsing.format(max))"
    case .choice(let values): "one of \(values.joined(separator: ", "))"
    case .address: "host:port"
    case .properties: "librdkafka properties (name: value)"
    }
  }

  static func named(_ name: String) -> DaemonConfigKey? { byName[name] }

  /// The passthrough key whose prefix `name` falls under (`kafka.consumer.` + property).
  static func propertiesKey(containing name: String) -> DaemonConfigKey? {
    all.first { $0.kind == .properties && name.hasPrefix($0.name + ".") && name.count > $0.name.count + 1 }
  }

  private static let byName = Dictionary(uniqueKeysWithValues: all.map { ($0.name, $0) })

  /// What `check-config`, logs and errors show instead of a secret's value.
  static let redacted = "<redacted>"

  /// Whether a key (or a librdkafka property below `kafka.producer` / `kafka.consumer`) holds a
  /// secret: its value is never shown, whatever the output.
  static func isSecret(_ name: String) -> Bool {
    let lowered = name.lowercased()
    return ["password", "secret", "token", "sasl.oauthbearer", ".key"].contains { lowered.contains($0) }
  }
}
