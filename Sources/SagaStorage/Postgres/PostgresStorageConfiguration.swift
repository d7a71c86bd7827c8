import Foundation

/// Where and how sagad keeps its state in PostgreSQL (`storage.postgres.*`,
/// Docs/configuration.md; Docs/storage-engines.md for the model).
public struct PostgresStorageConfiguration: Sendable, Equatable {
  /// libpq's `sslmode`, the values that make sense for a client without a CA file of its own.
  public enum SSLMode: String, Sendable, Equatable, CaseIterable {
    /// Plain TCP; for loopback and private networks.
    case disable
    /// TLS when the server offers it, plain otherwise (libpq's default).
    case prefer
    /// TLS or no connection, verifying the server's certificate and name against the
    /// system's trust store.
    case require
  }

  /// A host name or address, or, as with libpq, an absolute path: the directory of the server's
  /// Unix-domain socket (`/var/run/postgresql`), for a server on the same host that takes local
  /// connections only. TLS is not used over a socket (libpq ignores `sslmode` there too).
  public var host: String
  /// The TCP port, or the number in the socket file's name (`.s.PGSQL.<port>`).
  public var port: Int
  public var user: String
  /// Never logged nor shown: `description` and `check-config` print the URL without it.
  public var password: String?
  public var database: String
  public var sslMode: SSLMode
  /// Connections per service (each a transaction at a time).
  public var poolSize: Int
  /// The server cancels a statement that runs longer (PostgreSQL's `statement_timeout`);
  /// the transaction then fails as retriable.
  public var statementTimeout: Duration
  /// How long opening one connection may take.
  public var connectTimeout: Duration
  /// `application_name`, so `pg_stat_activity` shows which instance holds what.
  public var applicationName: String
  /// Whether each connection prepares the statements it sends again (`PREPARE`/`EXECUTE`),
  /// which saves the server parsing and planning them; off behind a pooler that hands one
  /// server session to several clients (PgBouncer in transaction mode).
  public var preparedStatements: Bool

  public init(
    host: String = "127.0.0.1", port: Int = 5432, user: String = "sagad", password: String? = nil,
    database: String = "sagad", sslMode: SSLMode = .prefer, poolSize: Int = 4,
    statementTimeout: Duration = .seconds(30), connectTimeout: Duration = .seconds(5),
    applicationName: String = "sagad", preparedStatements: Bool = true
  ) {
    self.host = host
    self.port = port
    self.user = user
    self.password = password
    self.database = database
    self.sslMode = sslMode
    self.poolSize = poolSize
    self.statementTimeout = statementTimeout
    self.connectTimeout = connectTimeout
    self.applicationName = applicationName
    self.preparedStatements = preparedStatements
  }

  /// Reads a libpq-style URL: `postgres[ql]://user[:password]@host[:port]/database[?sslmode=…]`.
  /// A socket directory goes percent-encoded in the host (`postgres://sagad@%2Fvar%2Frun%2Fpostgresql/sagad`)
  /// or in a `host` parameter (`postgres://sagad@/sagad?host=/var/run/postgresql`), as libpq reads it.
  /// - Throws: ``PostgresURLError`` naming what is wrong (never echoing the password).
  public init(url text: String) throws(PostgresURLError) {
    guard let components = URLComponents(string: text),
      let scheme = components.scheme, scheme == "postgres" || scheme == "postgresql"
    else { throw PostgresURLError("not a postgres:// or postgresql:// URL") }
    let parameterHost = components.queryItems?.last { $0.name == "host" }?.value
    let authorityHost = components.percentEncodedHost.map { $0.removingPercentEncoding ?? $0 }
    guard let host = [parameterHost, authorityHost].compactMap({ $0 }).first(where: { !$0.isEmpty }) else {
      throw PostgresURLError("the URL names no host")
    }
    self.init(host: host)
    if let port = components.port {
      guard (1...65_535).contains(port) else { throw PostgresURLError("port \(port) is out of range") }
      self.port = port
    }
    if let user = components.user, !user.isEmpty { self.user = user.removingPercentEncoding ?? user }
    password = components.password.map { $0.removingPercentEncoding ?? $0 }
    let path = components.path.hasPrefix("/") ? String(components.path.dropFirst()) : components.path
    if !path.isEmpty { database = path.removingPercentEncoding ?? path }
    for item in components.queryItems ?? [] {
      switch item.name {
      case "sslmode":
        guard let value = item.value, let mode = SSLMode(rawValue: value) else {
          throw PostgresURLError(
            "sslmode \(item.value ?? "") is not one of \(SSLMode.allCases.map(\.rawValue).joined(separator: ", "))")
        }
        sslMode = mode
      case "application_name":
        applicationName = item.value ?? applicationName
      case "host":
        break
      default:
        throw PostgresURLError("unknown URL parameter \(item.name) (sagad reads host, sslmode and application_name)")
      }
    }
  }

  /// The path of the server's socket file when ``host`` is a socket directory, else nil.
  public var socketPath: String? {
    host.hasPrefix("/") ? "\(host.hasSuffix("/") ? String(host.dropLast()) : host)/.s.PGSQL.\(port)" : nil
  }

  /// The URL without its password, for logs, `status` and `check-config`.
  public var redactedURL: String {
    if socketPath != nil { return "postgres://\(user)@:\(port)/\(database)?host=\(host)" }
    return "postgres://\(user)@\(host):\(port)/\(database)?sslmode=\(sslMode.rawValue)"
  }
}

/// A `storage.postgres.url` sagad cannot use.
public struct PostgresURLError: Error, Sendable, Equatable, CustomStringConvertible {
  public let reason: String

  public init(_ reason: String) { self.reason = reason }

  public var description: String { reason }
}
