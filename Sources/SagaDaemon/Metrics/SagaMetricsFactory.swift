import CoreMetrics
import Prometheus

/// The swift-metrics factory sagad bootstraps once (`SagadCommand`): swift-prometheus's
/// `PrometheusMetricsFactory` over the registry `/metrics` serves, plus what it cannot know
/// itself. It registers every family with an empty HELP, and the registry refuses a second
/// HELP for a name, so the families of `help` are made here, with their text and buckets;
/// any other label goes to the Prometheus factory unchanged.
struct SagaMetricsFactory: MetricsFactory {
  /// HELP text and, for a histogram (an aggregating recorder), its buckets.
  struct Family: Sendable {
    var help: String
    var buckets: [Double]? = nil
  }

  let registry: PrometheusCollectorRegistry
  private let families: [String: Family]
  private let prometheus: PrometheusMetricsFactory

  init(registry: PrometheusCollectorRegistry, families: [String: Family]) {
    self.registry = registry
    self.families = families
    prometheus = PrometheusMetricsFactory(registry: registry)
  }

  func makeCounter(label: String, dimensions: [(String, String)]) -> any CounterHandler {
    guard let family = families[label] else { return prometheus.makeCounter(label: label, dimensions: dimensions) }
    return registry.counter(label, dimensions, help: family.help)
  }

  func makeFloatingPointCounter(label: String, dimensions: [(String, String)]) -> any FloatingPointCounterHandler {
    guard let family = families[label] else {
      return prometheus.makeFloatingPointCounter(label: label, dimensions: dimensions)
    }
    return registry.counter(label, dimensions, help: family.help)
  }

  func makeRecorder(label: String, dimensions: [(String, String)], aggregate: Bool) -> any RecorderHandler {
    guard let family = families[label] else {
      return prometheus.makeRecorder(label: label, dimensions: dimensions, aggregate: aggregate)
    }
    guard aggregate, let buckets = family.buckets else {
      return registry.gauge(label, dimensions, help: family.help)
    }
    return registry.histogram(label, dimensions, buckets: buckets, help: family.help)
  }

  func makeMeter(label: String, dimensions: [(String, String)]) -> any MeterHandler {
    guard let family = families[label] else { return prometheus.makeMeter(label: label, dimensions: dimensions) }
    return registry.gauge(label, dimensions, help: family.help)
  }

  func makeTimer(label: String, dimensions: [(String, String)]) -> any TimerHandler {
    prometheus.makeTimer(label: label, dimensions: dimensions)
  }

  func destroyCounter(_ handler: any CounterHandler) { prometheus.destroyCounter(handler) }
  func destroyFloatingPointCounter(_ handler: any FloatingPointCounterHandler) {
    prometheus.destroyFloatingPointCounter(handler)
  }
  func destroyRecorder(_ handler: any RecorderHandler) { prometheus.destroyRecorder(handler) }
  func destroyMeter(_ handler: any MeterHandler) { prometheus.destroyMeter(handler) }
  func destroyTimer(_ handler: any TimerHandler) { prometheus.destroyTimer(handler) }
}
