import SagaCore

/// What a dead letter's headers say about its failure (Docs/retries-and-dead-letters.md): the `kafka_dlt-*`
/// headers Spring's DeadLetterPublishingRecoverer and sagad write, and sagad's own
/// `sagad-attempts` / `sagad-failure-class`. Every field is optional: a dead letter from
/// another producer may carry any subset, or none, and is still stored.
struct DeadLetterFailure: Sendable, Hashable {
  var originalTopic: String?
  var originalPartition: Int32?
  var originalOffset: Int64?
  var originalTimestampMilliseconds: Int64?
  var originalConsumerGroup: String?
  /// The exception message, or `unknown` when the record carries none.
  var reason: String
  /// The stable code leading a sagad reason (`unsupported-version: …`), if any.
  var reasonCode: String?
  /// `permanent` or `exhausted` on sagad's dead letters.
  var failureClass: String?
  var attempts: Int?
  /// `kafka_dlt-exception-fqcn`: `SagaCore.SagaError`, or a Java class name.
  var errorType: String?
  var eventId: String?

  /// What is stored as the reason of a dead letter that does not say why it failed.
  static let unknownReason = "unknown"

  init(headers: [RecordHeader]) {
    typealias DLT = HeaderName.DeadLetter
    func text(_ name: String) -> String? {
      headers.last(named: name)?.text.flatMap { $0.isEmpty ? nil : $0 }
    }
    originalTopic = text(DLT.originalTopic)
    originalPartition = headers.last(named: DLT.originalPartition)?.integer.flatMap { Int32(exactly: $0) }
    originalOffset = headers.last(named: DLT.originalOffset)?.integer
    originalTimestampMilliseconds = headers.last(named: DLT.originalTimestamp)?.integer
    originalConsumerGroup = text(DLT.originalConsumerGroup)
    errorType = text(DLT.exceptionFqcn)
    let message = text(DLT.exceptionMessage)
    reason = message ?? Self.unknownReason
    reasonCode = message.flatMap(Self.code(leading:))
    failureClass = text(HeaderName.failureClass)
    attempts = headers.last(named: HeaderName.attempts)?.integer.flatMap { Int(exactly: $0) }
    eventId = text(HeaderName.eventId)
  }

  /// `unsupported-version` from `unsupported-version: major version 2 …` (SagaError's
  /// description puts the code first); nil for free text such as Spring's messages.
  static func code(leading message: String) -> String? {
    guard let colon = message.firstIndex(of: ":") else { return nil }
    let code = message[..<colon]
    guard (1...64).contains(code.count), code.first?.isLetter == true,
      code.unicodeScalars.allSatisfy({ ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" })
    else { return nil }
    return String(code)
  }
}
