import SagaCore
import SagaKafka
import Tracing

/// Outbox rows the relay has handed to the producer in one go, with their tickets. A
/// watcher task collects the delivery reports, so that the relay can go on publishing
/// newer rows meanwhile and settle this round (mark its persisted rows sent) once every
/// report is in.
final class RelayRound: Sendable {
  let ids: [Int64]
  let sentAt: SagaClock.Instant
  /// Collects the reports beside the relay's loop, which looks at them without waiting.
  private let collected: RelaySideTask<[KafkaDeliveryReport]>

  /// Starts watching `tickets`, handed to the producer at `sentAt` on the relay's clock;
  /// `spans` (one per ticket, or none) end with their delivery reports.
  init(ids: [Int64], tickets: [KafkaDeliveryTicket], sentAt: SagaClock.Instant, spans: [any Span] = []) {
    self.ids = ids
    self.sentAt = sentAt
    collected = RelaySideTask {
      var reports: [KafkaDeliveryReport] = []
      reports.reserveCapacity(tickets.count)
      for ticket in tickets { reports.append(await ticket.report) }
      Self.finish(spans, reports)
      return reports
    }
  }

  /// Ends each send span with what its delivery report says: the partition and offset
  /// Kafka gave the record, or the error.
  static func finish(_ spans: [any Span], _ reports: [KafkaDeliveryReport]) {
    for (span, report) in zip(spans, reports) {
      span.attributes["messaging.destination.partition.id"] = "\(report.partition)"
      if let offset = report.offset { span.attributes["messaging.kafka.offset"] = offset }
      if !report.isPersisted {
        let error = report.error.map { "\($0)" } ?? "\(report.status)"
        span.attributes["error.type"] = report.error.map { $0.code.name } ?? "\(report.status)"
        span.setStatus(SpanStatus(code: .error, message: error))
      }
      span.end()
    }
  }

  /// The reports, in row order, if all have arrived; nil without waiting otherwise.
  var readyReports: [KafkaDeliveryReport]? { try? collected.result?.get() }

  /// The reports, in row order, waiting for the missing ones.
  var reports: [KafkaDeliveryReport] {
    get async { (try? await collected.finish().get()) ?? [] }
  }
}
