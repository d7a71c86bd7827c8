import SagaCore
import SagaKafka
import Synchronization

/// Outbox rows the relay has handed to the producer in one go, with their tickets. A
/// watcher task collects the delivery reports, so that the relay can go on publishing
/// newer rows meanwhile and settle this round (mark its persisted rows sent) once every
/// report is in.
final class RelayRound: Sendable {
  let ids: [Int64]
  let tickets: [KafkaDeliveryTicket]
  let sentAt: SagaClock.Instant
  private let collected = Mutex<[KafkaDeliveryReport]?>(nil)

  /// Starts watching `tickets`, handed to the producer at `sentAt` on the relay's clock.
  init(ids: [Int64], tickets: [KafkaDeliveryTicket], sentAt: SagaClock.Instant) {
    self.ids = ids
    self.tickets = tickets
    self.sentAt = sentAt
    Task { [self] in
      let reports = await self.reports
      self.collected.withLock { $0 = reports }
    }
  }

  /// The reports, in row order, if all have arrived; nil without waiting otherwise.
  var readyReports: [KafkaDeliveryReport]? { collected.withLock { $0 } }

  /// The reports, in row order, waiting for the missing ones.
  var reports: [KafkaDeliveryReport] {
    get async {
      var reports: [KafkaDeliveryReport] = []
      reports.reserveCapacity(tickets.count)
      for ticket in tickets { reports.append(await ticket.report) }
      return reports
    }
  }
}
