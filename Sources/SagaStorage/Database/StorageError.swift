public import GRDB
import PostgresNIO

/// A storage failure (SQLite's or PostgreSQL's), classified so that callers can decide between retrying the
/// transaction, stopping the worker, and blaming the data.
///
/// Every error that ``SagaDatabase`` lets out of `init`, `read` and `write` and
/// that comes from SQLite is a `StorageError`; errors thrown by the caller's own
/// closure pass through unchanged.
///
/// A non-retriable error with ``isStorageFault`` set (disk full, read-only file,
/// corruption, unopenable path) is a fault of the database or its host, never of
/// the Kafka message being processed: a consumer must not dead-letter the message
/// for it, but stop, so that the supervisor backs off, marks the worker failed
/// and the alert brings an operator.
public struct StorageError: Error, Sendable, Equatable, CustomStringConvertible {
  /// What went wrong, coarser than the SQLite code.
  public enum Kind: String, Sendable, Equatable {
    /// Another connection or process holds the lock (`SQLITE_BUSY`, `SQLITE_PROTOCOL`).
    case busy
    /// A lock conflict inside this process (`SQLITE_LOCKED`).
    case locked
    /// An operating-system I/O call failed (`SQLITE_IOERR_*`).
    case ioError
    /// The disk or the file's size limit is full (`SQLITE_FULL`).
    case full
    /// The file, its directory or the filesystem is read-only (`SQLITE_READONLY`).
    case readOnly
    /// The file is not a valid database (`SQLITE_CORRUPT`, `SQLITE_NOTADB`, …).
    case corrupt
    /// The file cannot be opened or created (`SQLITE_CANTOPEN`, `SQLITE_PERM`).
    case cannotOpen
    /// SQLite ran out of memory (`SQLITE_NOMEM`).
    case outOfMemory
    /// A constraint of the schema rejected the data (`SQLITE_CONSTRAINT`).
    case constraint
    /// The database server cannot be reached or is shutting down (PostgreSQL only): the
    /// connection is gone, so the transaction did not happen; it goes through once it is back.
    case unavailable
    /// Anything else: usually a bug in an SQL statement.
    case other
  }

  /// The coarse classification of ``code``.
  public let kind: Kind
  /// The extended SQLite result code, e.g. 5 (`SQLITE_BUSY`) or 3338 (`SQLITE_IOERR_FSYNC`); 0 when
  /// the error is not SQLite's (PostgreSQL's carry `sqlState`; a row sagad cannot decode carries none).
  public let code: Int32
  /// The database file the error happened on.
  public let path: String
  /// The engine's message, with the statement when there was one.
  public let message: String
  /// PostgreSQL's SQLSTATE (`23505`, `40001`, …); nil for SQLite, whose code is ``code``.
  public let sqlState: String?

  /// Whether running the same transaction again, after a backoff, can succeed.
  ///
  /// * busy, locked: another connection holds the lock; the transaction was rolled
  ///   back, and it goes through once the lock is released.
  /// * I/O errors: on a server most are transient (a network volume's hiccup, a
  ///   lock call interrupted, memory pressure in the VFS) and the rolled-back
  ///   transaction is safe to repeat; the retry budget bounds a disk that keeps
  ///   failing. The sub-codes that report corrupt data or a setup problem
  ///   (`DATA`, `CORRUPTFS`, `ACCESS`, `AUTH`, `CONVPATH`, `GETTEMPPATH`, `VNODE`)
  ///   are not retriable: repeating reads the same bytes or hits the same wall.
  /// * out of memory: pressure is usually momentary; retriable.
  /// * full: freeing disk space is an operator's job that takes minutes, not the
  ///   seconds a retry budget lasts; retrying would only burn every message's
  ///   attempts. Not retriable: the worker stops and the supervisor escalates.
  /// * read-only, corrupt, cannot open: permissions, a filesystem remounted
  ///   read-only after errors, or damaged bytes do not heal by themselves.
  /// * constraint and other: the same statement with the same data fails again.
  public var isRetriable: Bool {
    switch kind {
    case .busy, .locked, .outOfMemory, .unavailable: true
    case .ioError: !Self.permanentIOErrors.contains(code)
    case .full, .readOnly, .corrupt, .cannotOpen, .constraint, .other: false
    }
  }

  /// Whether the error is about the database or its host rather than about the
  /// data a transaction tried to write (see the type's documentation).
  public var isStorageFault: Bool {
    switch kind {
    case .constraint, .other: false
    default: true
    }
  }

  public var description: String {
    let verdict = isRetriable ? "retriable" : "not retriable"
    // Code 0: sagad's own finding (a row that does not decode), or PostgreSQL without a SQLSTATE.
    let origin = sqlState.map { "SQLSTATE \($0), " } ?? (code != 0 ? "SQLite code \(code), " : "")
    return "storage error on \(path): \(message) (\(origin)\(kind), \(verdict))"
  }

  /// Classifies an SQLite error raised on the database file at `path`.
  public init(_ error: DatabaseError, path: String) {
    let message = error.message ?? "\(error.resultCode)"
    self.init(
      kind: Self.kind(of: error.resultCode),
      code: error.extendedResultCode.rawValue,
      path: path,
      message: error.sql.map { "\(message) in `\($0)`" } ?? message
    )
  }

  public init(kind: Kind, code: Int32, path: String, message: String, sqlState: String? = nil) {
    self.kind = kind
    self.code = code
    self.path = path
    self.message = message
    self.sqlState = sqlState
  }

  /// `error` as a `StorageError` if it came from SQLite or PostgreSQL, else unchanged, so
  /// that a domain error thrown inside a transaction keeps its type.
  public static func mapping(_ error: any Error, path: String) -> any Error {
    if let databaseError = error as? DatabaseError { return StorageError(databaseError, path: path) }
    if error is PSQLError { return StorageError(postgres: error, location: path) }
    return error
  }

  /// `error` as a `StorageError` when it came from either engine (inside a transaction SQLite
  /// throws GRDB's errors), else nil.
  public static func classifying(_ error: any Error) -> StorageError? {
    if let error = error as? StorageError { return error }
    if let error = error as? DatabaseError { return StorageError(error, path: "") }
    if error is PSQLError { return StorageError(postgres: error, location: "") }
    return nil
  }

  private static func kind(of primary: ResultCode) -> Kind {
    switch primary {
    case .SQLITE_BUSY, .SQLITE_PROTOCOL: .busy
    case .SQLITE_LOCKED: .locked
    case .SQLITE_IOERR: .ioError
    case .SQLITE_FULL: .full
    case .SQLITE_READONLY: .readOnly
    case .SQLITE_CORRUPT, .SQLITE_NOTADB, .SQLITE_FORMAT: .corrupt
    case .SQLITE_CANTOPEN, .SQLITE_PERM, .SQLITE_AUTH: .cannotOpen
    case .SQLITE_NOMEM: .outOfMemory
    case .SQLITE_CONSTRAINT: .constraint
    default: .other
    }
  }

  private static let permanentIOErrors: Set<Int32> = Set(
    [
      ResultCode.SQLITE_IOERR_DATA, .SQLITE_IOERR_CORRUPTFS, .SQLITE_IOERR_ACCESS, .SQLITE_IOERR_AUTH,
      .SQLITE_IOERR_CONVPATH, .SQLITE_IOERR_GETTEMPPATH, .SQLITE_IOERR_VNODE,
    ].map(\.rawValue)
  )
}
