import AdminProtocol
import Payments
import Points
import SagaCore

/// `saga <paymentId>`: Payments' steps and Points' steps of one saga, merged in time order.
/// The two services never read each other's database; this daemon hosts both, so it can.
enum SagaTimeline {
  static func merge(payments: [SagaStep], points: [PointsSagaStep]) -> [AdminJSON.Saga.Step] {
    var entries: [(at: Int64, rank: Int, index: Int, step: AdminJSON.Saga.Step)] = []
    for step in payments {
      entries.append(
        (
          RFC3339Timestamp.milliseconds(of: step.at), rank(step.step), entries.count,
          AdminJSON.Saga.Step(
            at: RFC3339Timestamp.format(step.at), step: step.step.rawValue, topic: step.topic,
            partition: step.partition, offset: step.offset, eventId: step.eventId, outcome: step.outcome,
            service: "payments")
        ))
    }
    for step in points {
      entries.append(
        (
          RFC3339Timestamp.milliseconds(of: step.at), step.step == .published ? 2 : 1, entries.count,
          AdminJSON.Saga.Step(
            at: RFC3339Timestamp.format(step.at), step: step.step.rawValue, topic: step.topic,
            partition: step.partition, offset: step.offset, eventId: step.eventId, outcome: step.outcome,
            service: "points")
        ))
    }
    // Steps stamped in the same millisecond go in causal order: what Payments announces,
    // then Points' decision, then what Points publishes, then what Payments makes of it.
    return entries.sorted { ($0.at, $0.rank, $0.index) < ($1.at, $1.rank, $1.index) }.map(\.step)
  }

  private static func rank(_ kind: SagaStep.Kind) -> Int {
    switch kind {
    case .paymentAccepted, .republished: 0
    default: 3
    }
  }
}
