/// `metrics.listen`: where `GET /metrics`, `/healthz` and `/readyz` are served.
struct MetricsSettings: Sendable, Hashable {
  var host = "127.0.0.1"
  /// 0 lets the kernel pick a free port; the bound address goes to the log and to
  /// `addressFileName` in the state directory.
  var port = 9464
  /// `""` or `off` turns the endpoint off.
  var enabled = true
  /// `metrics.max_connections`: connections served at once; more are closed at accept.
  var maxConnections = 16
  /// `metrics.request_timeout`: how long a connection may take to send a complete request
  /// head, counted from its opening or the previous response; trickled bytes do not extend it.
  var requestTimeout: Duration = .seconds(10)
  /// `metrics.idle_timeout`: a keep-alive connection with no request for this long is closed.
  var idleTimeout: Duration = .seconds(90)
  /// Descriptors the endpoint never takes, whatever `maxConnections` says: they stay for the
  /// admin socket, Kafka and the databases when the process's limit is low.
  static let reservedDescriptors = 128
  /// A request body (none is expected) longer than this closes the connection.
  static let maximumBodyBytes = 8_192

  /// The file in `state_dir` that holds `host:port` of the running endpoint, for scripts
  /// and tests that asked for port 0.
  static let addressFileName = "metrics-address"
}
