/// The admin server's `admin.*` keys (Docs/configuration.md).
struct AdminSettings: Sendable {
  /// The default socket outside `--dev`: systemd's `RuntimeDirectory=sagad` makes `/run/sagad`.
  static let systemSocketPath = "/run/sagad/sagad.sock"

  /// `admin.socket`: where the Unix socket is created (mode 0660).
  var socketPath: String
  /// `admin.idle_timeout`: a connection that sends nothing for this long is closed, so a
  /// forgotten `nc -U` does not hold one of the `maxConnections` slots forever.
  var idleTimeout: Duration = .seconds(300)
  /// `admin.max_connections`: connections beyond this are answered `8005` and closed.
  var maxConnections = 32
  /// `admin.max_connections_per_user`: connections one uid other than root and sagad's own may
  /// hold at once, so one user cannot take every slot.
  var maxConnectionsPerUser = 4
  /// `admin.reserved_connections`: slots of `maxConnections` only root and sagad's own user
  /// may take, so operators are never locked out by other users.
  var reservedConnections = 4
  /// `admin.request_timeout`: a request line must be complete this long after its first byte;
  /// trickled bytes do not extend it.
  var requestTimeout: Duration = .seconds(10)
  /// `admin.max_session`: a connection is closed this long after it opened, whatever it sends.
  var maxSession: Duration = .seconds(3600)
  /// `admin.operator_groups`: members (by group name or number) get the `operate` level.
  var operatorGroups: [String] = []
  /// `admin.read_groups`: members get the `read` level.
  var readGroups: [String] = []

  /// `<state_dir>/sagad.sock` in `--dev`, so that `make run` needs neither root nor
  /// `/run`, and `sagactl` finds `./.sagad/sagad.sock` without being told.
  static func defaultSocketPath(dev: Bool, stateDirectory: String) -> String {
    dev ? stateDirectory + "/sagad.sock" : systemSocketPath
  }
}
