/// `metrics.listen`: where `GET /metrics`, `/healthz` and `/readyz` are served.
struct MetricsSettings: Sendable, Hashable {
  var host = "127.0.0.1"
  /// 0 lets the kernel pick a free port; the bound address goes to the log and to
  /// `addressFileName` in the state directory.
  var port = 9464
  /// `""` or `off` turns the endpoint off.
  var enabled = true

  /// The file in `state_dir` that holds `host:port` of the running endpoint, for scripts
  /// and tests that asked for port 0.
  static let addressFileName = "metrics-address"
}
