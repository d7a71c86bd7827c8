/// One Kafka message header as SagaCore sees it: a name and a UTF-8 value. SagaKafka
/// converts to and from librdkafka's byte headers; a list (not a dictionary) because Kafka
/// allows repeated names and the order is part of what an operator reads in `kcat`.
public struct EnvelopeHeader: Sendable, Hashable, CustomStringConvertible {
  public var name: String
  public var value: String

  public init(name: String, value: String) {
    self.name = name
    self.value = value
  }

  public var description: String { "\(name)=\(value)" }
}
