import CRdKafka

/// librdkafka properties (`bootstrap.servers`, `acks`, …) as plain strings. The typed
/// producer and consumer configurations build one of these; `overrides` lets an
/// operator set any property librdkafka knows without a code change.
public struct KafkaConfiguration: Sendable, Equatable {
  public private(set) var properties: [String: String]

  public init(_ properties: [String: String] = [:]) { self.properties = properties }

  public subscript(key: String) -> String? {
    get { properties[key] }
    set { properties[key] = newValue }
  }

  /// Applies `overrides` on top of these properties (the override wins).
  public func merging(_ overrides: [String: String]) -> KafkaConfiguration {
    KafkaConfiguration(properties.merging(overrides) { _, new in new })
  }

  /// Builds an `rd_kafka_conf_t`; a property librdkafka rejects is reported by name.
  /// The caller owns the result until it hands it to `rd_kafka_new`.
  func makeConf() throws(KafkaError) -> OpaquePointer {
    guard let conf = rd_kafka_conf_new() else {
      throw KafkaError.configuration("librdkafka could not allocate a configuration")
    }
    for (key, value) in properties.sorted(by: { $0.key < $1.key }) {
      var errstr = [CChar](repeating: 0, count: 512)
      let result = rd_kafka_conf_set(conf, key, value, &errstr, errstr.count)
      if result != RD_KAFKA_CONF_OK {
        rd_kafka_conf_destroy(conf)
        let reason = String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
        throw KafkaError.configuration("kafka property '\(key)': \(reason)")
      }
    }
    return conf
  }
}
