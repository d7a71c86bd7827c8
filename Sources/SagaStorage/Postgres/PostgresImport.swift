import Foundation
import GRDB

/// Copies a stopped instance's SQLite database into its PostgreSQL schema (`sagad
/// migrate-storage`), table by table, generically: every table of the file but GRDB's and
/// SQLite's own, parents before the tables whose foreign keys name them, ids kept, each
/// column the two tables share converted to the PostgreSQL column's type. The whole copy
/// is one PostgreSQL transaction, so a failure leaves the schema as it was; the identity
/// sequences then continue after the highest id either side ever handed out.
public struct PostgresImport: Sendable {
  /// One table's rows on each side.
  public struct Table: Sendable, Equatable {
    public let name: String
    public let sqliteRows: Int64
    /// Nil when PostgreSQL has no such table (only an empty one may lack it).
    public let postgresRows: Int64?

    public init(name: String, sqliteRows: Int64, postgresRows: Int64?) {
      self.name = name
      self.sqliteRows = sqliteRows
      self.postgresRows = postgresRows
    }
  }

  /// Why nothing was copied: the target holds rows already, or the source holds data that
  /// has no place in the target.
  public struct Refusal: Error, Sendable, CustomStringConvertible {
    public let description: String
  }

  private let source: SagaDatabase
  private let target: SagaDatabase

  /// - Parameters:
  ///   - source: a SQLite database (best opened with ``SagaDatabase/init(exclusive:migrator:)``).
  ///   - target: the same database's schema on PostgreSQL, migrated.
  public init(from source: SagaDatabase, to target: SagaDatabase) {
    precondition(source.sqlite != nil && target.engine == .postgres, "PostgresImport copies SQLite into PostgreSQL")
    self.source = source
    self.target = target
  }

  /// The tables of `source` (SQLite) a copy takes, in copy order, with their rows
  /// (`postgresRows` nil).
  public static func tables(of source: SagaDatabase) async throws -> [Table] {
    try await readSource(source) { db in try plan(db) }.map {
      Table(name: $0.name, sqliteRows: $0.rows, postgresRows: nil)
    }
  }

  /// Copies every table in one PostgreSQL transaction and resets the identity sequences.
  /// Returns the rows on both sides, PostgreSQL's counted after the copy.
  /// - Throws: ``Refusal`` (nothing copied) when a table of the schema holds rows already,
  ///   or a column with data has no column to go to; ``StorageError`` for either engine.
  public func copy() async throws -> [Table] {
    let source = source
    return try await target.write { pg in
      try Self.readSourceBlocking(source) { db in try Self.copy(Self.plan(db), from: db, to: pg) }
    }
  }

  /// Both sides' rows per table, as they are now (each side in one snapshot).
  public func counts() async throws -> [Table] {
    let plan = try await Self.readSource(source) { db in try Self.plan(db) }
    let names = plan.map(\.name)
    let postgres = try await target.read { pg in
      let present = try Self.targetTables(pg)
      return try names.map { name in
        present.contains(name) ? try pg.value(Int64.self, "SELECT count(*) FROM \(Self.quoted(name))") ?? 0 : nil
      }
    }
    return zip(plan, postgres).map { Table(name: $0.name, sqliteRows: $0.rows, postgresRows: $1) }
  }

  // MARK: - The source

  /// A SQLite table as it is copied.
  private struct SourceTable {
    let name: String
    let columns: [String]
    let rows: Int64
    /// The highest id its AUTOINCREMENT ever handed out (`sqlite_sequence`), rows purged since included.
    let sequence: Int64?
  }

  private static func readSource<T: Sendable>(
    _ source: SagaDatabase, _ body: @escaping @Sendable (Database) throws -> T
  ) async throws -> T {
    guard let writer = source.sqlite else { preconditionFailure("the source is SQLite") }
    do {
      return try await writer.read(body)
    } catch let error as DatabaseError {
      throw StorageError(error, path: source.path)
    }
  }

  /// The same, blocking: inside a PostgreSQL transaction the copy runs on the engine's own
  /// thread, where waiting for the file is what the thread is for.
  private static func readSourceBlocking<T>(_ source: SagaDatabase, _ body: (Database) throws -> T) throws -> T {
    guard let writer = source.sqlite else { preconditionFailure("the source is SQLite") }
    do {
      return try writer.read { db in try body(db) }
    } catch let error as DatabaseError {
      throw StorageError(error, path: source.path)
    }
  }

  /// Every table but SQLite's and GRDB's, parents first (alphabetical among equals), so each
  /// row's foreign keys point at rows already copied.
  private static func plan(_ db: Database) throws -> [SourceTable] {
    let names = try String.fetchAll(
      db,
      sql: """
        SELECT name FROM sqlite_master
        WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\' AND name <> 'grdb_migrations'
        ORDER BY name
        """)
    var parents: [String: Set<String>] = [:]
    for name in names {
      parents[name] = Set(try db.foreignKeys(on: name).map(\.destinationTable)).intersection(names).subtracting([name])
    }
    var ordered: [String] = []
    var remaining = names
    while !remaining.isEmpty {
      let ready = remaining.filter { parents[$0, default: []].isSubset(of: Set(ordered)) }
      guard !ready.isEmpty else {
        throw Refusal(
          description: "\(db.location): the foreign keys of \(remaining.joined(separator: ", ")) form a cycle")
      }
      ordered += ready
      remaining.removeAll { ready.contains($0) }
    }
    let sequences = try db.tableExists("sqlite_sequence")
    return try ordered.map { name in
      SourceTable(
        name: name, columns: try db.columns(in: name).map(\.name),
        rows: try Int64.fetchOne(db, sql: "SELECT count(*) FROM \(quoted(name))") ?? 0,
        sequence: sequences
          ? try Int64.fetchOne(db, sql: "SELECT seq FROM sqlite_sequence WHERE name = ?", arguments: [name]) : nil)
    }
  }

  // MARK: - The copy

  /// A column of the target schema.
  private struct TargetColumn {
    let name: String
    let type: String
    /// Fed by a sequence (an identity or a serial), which the copy moves past the copied ids.
    let sequenced: Bool
  }

  /// Tables of the connection's schema (its `search_path`), without sagad's migration record.
  private static func targetTables(_ pg: any SQLConnection) throws -> Set<String> {
    Set(
      try pg.query(
        """
        SELECT table_name::text FROM information_schema.tables
        WHERE table_schema = current_schema() AND table_type = 'BASE TABLE' AND table_name <> 'sagad_migrations'
        """
      ).map { try $0.decode(0, as: String.self) })
  }

  private static func targetColumns(_ pg: any SQLConnection) throws -> [String: [TargetColumn]] {
    let rows = try pg.query(
      """
      SELECT table_name::text, column_name::text, data_type::text,
             (is_identity = 'YES' OR COALESCE(column_default, '') LIKE 'nextval(%')::int
      FROM information_schema.columns WHERE table_schema = current_schema() ORDER BY table_name, ordinal_position
      """)
    var columns: [String: [TargetColumn]] = [:]
    for row in rows {
      columns[try row.decode(0), default: []].append(
        TargetColumn(name: try row.decode(1), type: try row.decode(2), sequenced: try row.decode(3) as Bool))
    }
    return columns
  }

  private static func copy(_ plan: [SourceTable], from db: Database, to pg: any SQLConnection) throws -> [Table] {
    let tables = try targetTables(pg)
    let columns = try targetColumns(pg)
    // No instance on PostgreSQL may write while the copy runs; reads go on.
    if !tables.isEmpty {
      try pg.execute("LOCK TABLE \(tables.sorted().map(quoted).joined(separator: ", ")) IN EXCLUSIVE MODE")
    }
    let occupied = try tables.sorted().filter {
      try pg.value(Bool.self, "SELECT EXISTS (SELECT 1 FROM \(quoted($0)))")!
    }
    guard occupied.isEmpty else {
      throw Refusal(
        description: "\(pg.location) already holds rows in \(occupied.joined(separator: ", ")); "
          + "the copy goes into empty tables only")
    }
    var copied: [Table] = []
    for table in plan {
      guard tables.contains(table.name), let target = columns[table.name] else {
        guard table.rows == 0 else {
          throw Refusal(
            description: "table \(table.name) of \(db.location) holds \(table.rows) rows but \(pg.location) has no "
              + "such table")
        }
        copied.append(Table(name: table.name, sqliteRows: 0, postgresRows: nil))
        continue
      }
      let types = Dictionary(target.map { ($0.name, $0.type) }, uniquingKeysWith: { first, _ in first })
      for column in table.columns where types[column] == nil {
        let used = try Int64.fetchOne(
          db, sql: "SELECT count(*) FROM \(quoted(table.name)) WHERE \(quoted(column)) IS NOT NULL")
        guard used == 0 else {
          throw Refusal(
            description: "column \(table.name).\(column) of \(db.location) holds data but \(pg.location) has no "
              + "such column")
        }
      }
      let shared = table.columns.filter { types[$0] != nil }
      let inserted = try copyRows(of: table.name, columns: shared.map { ($0, types[$0]!) }, from: db, to: pg)
      guard inserted == table.rows else {
        throw Refusal(description: "table \(table.name): \(table.rows) rows read, \(inserted) written")
      }
      let sequenced = target.filter(\.sequenced)
      for column in sequenced {
        let highest =
          try pg.value(Int64.self, "SELECT COALESCE(MAX(\(quoted(column.name))), 0) FROM \(quoted(table.name))") ?? 0
        try pg.execute(
          "SELECT setval(pg_get_serial_sequence(quote_ident(current_schema()) || '.' || quote_ident(?), ?), ?, false)",
          [table.name, column.name, max(highest, table.sequence ?? 0) + 1])
      }
      let counted = try pg.value(Int64.self, "SELECT count(*) FROM \(quoted(table.name))") ?? 0
      copied.append(Table(name: table.name, sqliteRows: table.rows, postgresRows: counted))
    }
    return copied
  }

  /// Streams the table's rows into multi-row INSERTs; returns how many rows PostgreSQL took.
  private static func copyRows(
    of table: String, columns: [(name: String, type: String)], from db: Database, to pg: any SQLConnection
  ) throws -> Int64 {
    guard !columns.isEmpty else { return 0 }
    // Well below PostgreSQL's 65,535 parameters per statement.
    let perStatement = max(1, min(500, 30_000 / columns.count))
    let head = "INSERT INTO \(quoted(table)) (\(columns.map { quoted($0.name) }.joined(separator: ", "))) VALUES "
    let tuple = "(" + Array(repeating: "?", count: columns.count).joined(separator: ", ") + ")"
    var inserted: Int64 = 0
    var batch: [SQLValue] = []
    var rows = 0
    func flush() throws {
      guard rows > 0 else { return }
      let sql = head + Array(repeating: tuple, count: rows).joined(separator: ", ")
      inserted += Int64(try pg.execute(sql, batch))
      batch.removeAll(keepingCapacity: true)
      rows = 0
    }
    let cursor = try Row.fetchCursor(
      db, sql: "SELECT \(columns.map { quoted($0.name) }.joined(separator: ", ")) FROM \(quoted(table))")
    while let row = try cursor.next() {
      for (index, value) in row.databaseValues.enumerated() {
        batch.append(try converted(value, to: columns[index].type, at: "\(table).\(columns[index].name)"))
      }
      rows += 1
      if rows == perStatement { try flush() }
    }
    try flush()
    return inserted
  }

  /// A SQLite value as the PostgreSQL column of `type` takes it. SQLite stores what it is
  /// given whatever a column's declared type; PostgreSQL takes only its type: a key written
  /// as TEXT goes into a BYTEA column as its UTF-8 bytes, and a text that spells an integer
  /// into a BIGINT one as that integer.
  static func converted(_ value: DatabaseValue, to type: String, at column: String) throws -> SQLValue {
    let integers: Set = ["bigint", "integer", "smallint"]
    let texts: Set = ["text", "character varying", "character"]
    let reals: Set = ["double precision", "real", "numeric"]
    switch (value.storage, type) {
    case (.null, _): return .null
    case (.blob(let data), "bytea"): return .blob([UInt8](data))
    case (.string(let text), "bytea"): return .blob(Array(text.utf8))
    case (.int64(let number), let type) where integers.contains(type): return .integer(number)
    case (.string(let text), let type) where integers.contains(type) && Int64(text) != nil:
      return .integer(Int64(text)!)
    case (.double(let number), let type) where integers.contains(type) && Int64(exactly: number) != nil:
      return .integer(Int64(exactly: number)!)
    case (.string(let text), let type) where texts.contains(type): return .text(text)
    case (.int64(let number), let type) where texts.contains(type): return .text(String(number))
    case (.double(let number), let type) where texts.contains(type): return .text(String(number))
    case (.blob(let data), let type) where texts.contains(type) && String(validating: data, as: UTF8.self) != nil:
      return .text(String(decoding: data, as: UTF8.self))
    case (.int64(let number), let type) where reals.contains(type): return .real(Double(number))
    case (.double(let number), let type) where reals.contains(type): return .real(number)
    default:
      throw Refusal(description: "column \(column) holds \(value), which a PostgreSQL \(type) column cannot take")
    }
  }

  static func quoted(_ identifier: String) -> String {
    "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}
