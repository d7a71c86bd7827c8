extension Duration {
  /// In seconds, as Prometheus histograms want them.
  public var metricSeconds: Double {
    let (seconds, attoseconds) = components
    return Double(seconds) + Double(attoseconds) / 1e18
  }
}
