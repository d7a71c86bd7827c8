import Foundation
public import Logging
import NIOCore
public import PostgresNIO

/// PostgreSQL's side of the seam (issue 14): one PostgresNIO connection, used synchronously, so
/// that the stores' code is the same for both engines. Every call blocks until the server
/// answers: it must run on a thread of the engine's own (an `NIOThreadPool`), never on an event
/// loop or Swift's cooperative pool. `?` placeholders become `$1`, `$2`, … .
public final class PostgresSQLConnection: SQLConnection, Sendable {
  public let connection: PostgresConnection
  private let logger: Logger

  public init(_ connection: PostgresConnection, logger: Logger) {
    self.connection = connection
    self.logger = logger
  }

  public var engine: SQLEngine { .postgres }

  @discardableResult
  public func execute(_ sql: String, _ arguments: [SQLValue]) throws -> Int {
    try run(sql, arguments).metadata.rows ?? 0
  }

  public func query(_ sql: String, _ arguments: [SQLValue]) throws -> [[SQLValue]] {
    try run(sql, arguments).rows.map { row in try row.map(Self.value) }
  }

  private func run(_ sql: String, _ arguments: [SQLValue]) throws -> PostgresQueryResult {
    var binds = PostgresBindings(capacity: arguments.count)
    for argument in arguments {
      switch argument {
      case .null: binds.appendNull()
      case .integer(let number): binds.append(number)
      case .real(let number): binds.append(number)
      case .text(let text): binds.append(text)
      case .blob(let bytes): binds.append(ByteBuffer(bytes: bytes))
      }
    }
    let query = PostgresQuery(unsafeSQL: Self.numbered(sql), binds: binds)
    return try connection.query(query, logger: logger).wait()
  }

  /// `?` → `$n`, outside quoted strings and identifiers.
  static func numbered(_ sql: String) -> String {
    var out = ""
    out.reserveCapacity(sql.utf8.count + 8)
    var index = 0
    var quote: Character?
    for character in sql {
      if let open = quote {
        if character == open { quote = nil }
        out.append(character)
      } else if character == "'" || character == "\"" {
        quote = character
        out.append(character)
      } else if character == "?" {
        index += 1
        out += "$\(index)"
      } else {
        out.append(character)
      }
    }
    return out
  }

  private static func value(_ cell: PostgresCell) throws -> SQLValue {
    guard cell.bytes != nil else { return .null }
    switch cell.dataType {
    case .int2, .int4, .int8: return .integer(try cell.decode(Int64.self))
    case .bool: return .integer(try cell.decode(Bool.self) ? 1 : 0)
    case .float4, .float8: return .real(try cell.decode(Double.self))
    case .bytea:
      let buffer = try cell.decode(ByteBuffer.self)
      return .blob(Array(buffer.readableBytesView))
    default: return .text(try cell.decode(String.self))
    }
  }
}
