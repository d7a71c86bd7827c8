public import CoreMetrics

/// What Payments counts where it decides (Docs/metrics.md): `sagad_payments_total{result}`,
/// `compensate_payment_total{result}`, `sagad_compensation_redeliveries_total`,
/// `sagad_pay_groups_total{write}`, `sagad_pay_group_fallbacks_total` and
/// `sagad_pay_group_window_waits_total`. Recorded
/// through swift-metrics, into the factory given (tests pass a `TestMetrics`) or the
/// process's bootstrapped one; every result's series exists from the start.
public final class PaymentsMetrics: Sendable {
  public static let payments = "sagad_payments_total"
  public static let compensations = "compensate_payment_total"
  public static let compensationRedeliveries = "sagad_compensation_redeliveries_total"
  public static let payGroups = "sagad_pay_groups_total"
  public static let payGroupFallbacks = "sagad_pay_group_fallbacks_total"
  public static let payGroupWindowWaits = "sagad_pay_group_window_waits_total"

  /// How a committed `pay` group was written: as one statement without locks (PostgreSQL), or
  /// as a transaction.
  public enum GroupWrite: String, CaseIterable, Sendable {
    case oneStatement = "one_statement"
    case transaction
  }

  private let pays: [PayOutcome: Counter]
  private let compensations: [String: Counter]
  /// Copies of a compensation already decided: kept out of `compensate_payment_total` so
  /// that the report's `rate(compensate_payment_total[5m])` counts compensations, not
  /// deliveries (the report's Points sends up to ten copies of each).
  private let redeliveries: Counter
  private let groups: [GroupWrite: Counter]
  /// Writes of one statement that failed (a wallet or key changed since the group's reads, a
  /// request that needed a read after its writes) and ran again as a transaction: how often
  /// instances contend for the same wallets.
  private let fallbacks: Counter
  /// Times the `pay` writer waited for the group window before taking the next group.
  private let windowWaits: Counter

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
    groups = Dictionary(
      uniqueKeysWithValues: GroupWrite.allCases.map { write in
        (write, Counter(label: Self.payGroups, dimensions: [("write", write.rawValue)], factory: factory))
      })
    fallbacks = Counter(label: Self.payGroupFallbacks, dimensions: [], factory: factory)
    windowWaits = Counter(label: Self.payGroupWindowWaits, dimensions: [], factory: factory)
  }

  /// Counts one committed `pay` group, by how it was written.
  func count(_ write: GroupWrite) {
    groups[write]?.increment()
  }

  /// Counts one write of one statement sent back to run as a transaction.
  func countGroupFallback() {
    fallbacks.increment()
  }

  /// Counts one wait of the `pay` writer for the group window (`payments.group_commit_window`).
  func countWindowWait() {
    windowWaits.increment()
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
