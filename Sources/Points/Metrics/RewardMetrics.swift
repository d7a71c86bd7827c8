public import CoreMetrics
import SagaRuntime

/// What Points counts where it decides (Docs/metrics.md): `sagad_point_rewards_total{result}`
/// and `sagad_reward_latency_seconds`. Recorded through swift-metrics, into the factory given
/// (tests pass a `TestMetrics`) or the process's bootstrapped one; every result's series
/// exists from the start.
public final class RewardMetrics: Sendable {
  public static let rewards = "sagad_point_rewards_total"
  public static let latency = "sagad_reward_latency_seconds"

  private let counters: [String: Counter]
  private let latencies: Recorder

  public init(factory: (any MetricsFactory)? = nil) {
    let factory = factory ?? MetricsSystem.factory
    counters = Dictionary(
      uniqueKeysWithValues: ["rewarded", "failed", "duplicate"].map { result in
        (result, Counter(label: Self.rewards, dimensions: [("result", result)], factory: factory))
      })
    latencies = Recorder(label: Self.latency, dimensions: [], aggregate: true, factory: factory)
  }

  /// Counts one decision; call it once the decision committed.
  func count(_ outcome: RewardOutcome) {
    counters[outcome.result]?.increment()
  }

  /// Records one credited reward's latency; call it once the reward committed.
  func observeLatency(_ latency: Duration) {
    latencies.record(latency.metricSeconds)
  }
}
