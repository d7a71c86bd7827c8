import Foundation

/// `kafka.security.*`: how every Kafka client of sagad (producers, consumers, the admin clients
/// of the lag sampler and broker probe, the replay producer) authenticates to a real cluster,
/// set once instead of twice under `kafka.producer` and `kafka.consumer`
/// (Docs/operations.md, "Security"). Secrets come from files, so that
/// the YAML and the environment hold paths, not passwords.
struct KafkaSecuritySettings: Sendable, Equatable {
  /// librdkafka's `security.protocol` values, in the spelling sagad's configuration uses.
  static let protocols = ["plaintext", "ssl", "sasl_plaintext", "sasl_ssl"]
  static let mechanisms = ["PLAIN", "SCRAM-SHA-256", "SCRAM-SHA-512"]

  /// The librdkafka properties to apply to every client; empty when nothing is set.
  var properties: [String: String] = [:]

  /// Reads the keys; a secret file that cannot be read refuses the start, naming its key.
  static func read(_ values: inout ConfigValues) throws(DaemonConfiguration.Invalid) -> KafkaSecuritySettings {
    var properties: [String: String] = [:]
    if let value = try values.choice("kafka.security.protocol") { properties["security.protocol"] = value }
    if let value = try values.text("kafka.security.sasl_mechanism") {
      guard mechanisms.contains(value) else {
        throw .init(
          key: "kafka.security.sasl_mechanism",
          reason: "'\(value)' is not one of \(mechanisms.joined(separator: ", "))")
      }
      properties["sasl.mechanisms"] = value
    }
    if let value = try values.text("kafka.security.sasl_username") { properties["sasl.username"] = value }
    if let path = try values.text("kafka.security.sasl_password_file") {
      properties["sasl.password"] = try SecretFile.read(path, key: "kafka.security.sasl_password_file")
    }
    let paths = [
      ("kafka.security.ssl_ca_location", "ssl.ca.location"),
      ("kafka.security.ssl_certificate_location", "ssl.certificate.location"),
      ("kafka.security.ssl_key_location", "ssl.key.location"),
    ]
    for (key, property) in paths {
      guard let path = try values.text(key) else { continue }
      guard FileManager.default.isReadableFile(atPath: path) else {
        throw .init(key: key, reason: "cannot read \(path)")
      }
      properties[property] = path
    }
    if let path = try values.text("kafka.security.ssl_key_password_file") {
      properties["ssl.key.password"] = try SecretFile.read(path, key: "kafka.security.ssl_key_password_file")
    }
    if properties["sasl.username"] != nil || properties["sasl.password"] != nil,
      !(properties["security.protocol"]?.hasPrefix("sasl") ?? false)
    {
      throw .init(
        key: "kafka.security.protocol",
        reason: "SASL credentials are set, so it must be sasl_ssl (or sasl_plaintext on a trusted network)")
    }
    return KafkaSecuritySettings(properties: properties)
  }

  /// `overrides` (the client's own `kafka.producer` / `kafka.consumer`) win over the
  /// security settings, key by key: they are the escape hatch.
  func applied(to overrides: [String: String]) -> [String: String] {
    properties.merging(overrides) { _, explicit in explicit }
  }
}
