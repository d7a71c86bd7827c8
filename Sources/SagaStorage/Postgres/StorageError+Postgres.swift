import PostgresNIO

extension StorageError {
  /// Classifies a PostgresNIO failure by its SQLSTATE (or, without one, as the connection
  /// being gone), onto the same kinds SQLite's codes map to, so that callers decide the same
  /// way on both engines: retry, back off as unavailable, or blame the data.
  init(postgres error: any Error, location: String, statement: String? = nil) {
    guard let error = error as? PSQLError else {
      if let error = error as? StorageError {
        self = error
        return
      }
      self.init(kind: .other, code: 0, path: location, message: "\(error)")
      return
    }
    let state = error.serverInfo?[.sqlState]
    var message = error.serverInfo?[.message] ?? "\(error.code)"
    if let detail = error.serverInfo?[.detail] { message += " (\(detail))" }
    if let statement { message += " in `\(statement)`" }
    self.init(
      kind: state.map(Self.kind(sqlState:)) ?? Self.kind(client: error.code), code: 0, path: location,
      message: message, sqlState: state)
  }

  /// SQLSTATE classes (PostgreSQL's appendix A).
  static func kind(sqlState state: String) -> Kind {
    switch state {
    case "40001", "40P01", "55P03": .busy  // serialization failure, deadlock, lock not available
    case "26000": .busy  // a prepared statement the server lost (PreparedStatements): prepared anew on retry
    case "53100": .full
    case "53200": .outOfMemory
    case "25006": .readOnly
    case "XX001", "XX002": .corrupt
    case "3D000", "3F000", "28000", "28P01": .cannotOpen
    default:
      switch state.prefix(2) {
      case "23": .constraint
      case "08", "57", "53": .unavailable  // connection lost, server shutting down, too many connections
      case "58": .ioError
      default: .other
      }
    }
  }

  static func kind(client code: PSQLError.Code) -> Kind {
    switch code {
    case .server, .messageDecodingFailure, .invalidCommandTag, .tooManyParameters: .other
    case .authMechanismRequiresPassword, .unsupportedAuthMechanism, .saslError: .cannotOpen
    default: .unavailable
    }
  }
}
