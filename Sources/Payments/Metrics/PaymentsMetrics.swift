public import CoreMetrics

/// What Payments counts where it decides (Docs/metrics.md): `sagad_payments_total{result}`,
/// `compensate_payment_total{result}` and `sagad_compensation_redeliveries_total`. Recorded
/// through swift-metrics, into the factory given (tests pass a `TestMetrics`) or the
/// process's bootstrapped one; every result's series exists from the start.
public final class PaymentsMetrics: Sendable {
  public static let payments = "sagad_payments_total"
  public static let compensations = "compensate_payment_total"
  public static let compensationRedeliveries = "sagad_compensation_redeliveries_total"

  private let pays: [PayOutcome: Counter]
  private let compensations: [String: Counter]
  /// Copies of a compensation already decided: kept out of `compensate_payment_total` so
  /// that the report's `rate(compensate_payment_total[5m])` counts compensations, not
  /// deliveries (the report's Points sends up to ten copies of each).
  private let redeliveries: Counter

  public init(factory: (any MetricsFactory)? = nil) {
    let factory = factory ?? MetricsSystem.factory
    pays = Dictionary(
      uniqueKeysWithValues: PayOutcome.allCases.map { outcome in
        (outcome, Counter(label: Self.payments, dimensions: [("result", outcome.rawValue)], factory: factory))
      })
    compensations = Dictionary(
      uniqueKeysWithValues: ["refunded", "failed"].map { result in
        (result, Counter(label: Self.compensations, dimensions: [("result", result)], factory: factory))
      })
    redeliveries = Counter(label: Self.compensationRedeliveries, dimensions: [], factory: factory)
  }

  /// Counts one answered `pay` call.
  func count(_ outcome: PayOutcome) {
    pays[outcome]?.increment()
  }

  /// Counts one compensation decision; call it once the decision committed.
  func count(_ outcome: CompensationOutcome) {
    if case .duplicate = outcome {
      redeliveries.increment()
    } else {
      compensations[outcome.result]?.increment()
    }
  }
}
