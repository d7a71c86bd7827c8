import Prometheus

/// Makers taking a full metric name and its HELP text, which swift-prometheus otherwise
/// wants split into namespace, name and unit parts; sagad's names are written whole, as
/// Docs/metrics.md lists them.
extension PrometheusCollectorRegistry {
  private static func descriptor(_ name: String, _ help: String) -> MetricNameDescriptor {
    MetricNameDescriptor(metricName: name, unitName: "", helpText: help)
  }

  func counter(_ name: String, _ labels: [(String, String)] = [], help: String) -> Counter {
    makeCounter(descriptor: Self.descriptor(name, help), labels: labels)
  }

  func gauge(_ name: String, _ labels: [(String, String)] = [], help: String) -> Gauge {
    makeGauge(descriptor: Self.descriptor(name, help), labels: labels)
  }

  func histogram(_ name: String, _ labels: [(String, String)] = [], buckets: [Double], help: String)
    -> ValueHistogram
  {
    makeValueHistogram(descriptor: Self.descriptor(name, help), labels: labels, buckets: buckets)
  }
}
