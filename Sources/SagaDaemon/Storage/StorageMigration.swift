import AdminProtocol
import Foundation
import Logging
import Payments
import Points
import SagaCore
import SagaStorage

/// What `sagad migrate-storage` does (Docs/operations.md, "Moving from SQLite to PostgreSQL"):
/// a stopped instance's SQLite state copied into PostgreSQL, one transaction per schema, and
/// proved by every table's row count and by the money audit on both sides.
struct StorageMigration: Sendable {
  /// A database of the state directory, named by the PostgreSQL schema it goes to.
  enum Part: String, CaseIterable, Sendable {
    case payments
    case points
    case deadLetters = "dead_letters"

    var file: String {
      switch self {
      case .payments: "payments.sqlite"
      case .points: "points.sqlite"
      case .deadLetters: "dlt.sqlite"
      }
    }
  }

  /// One side's databases, those the state directory has.
  struct Databases: Sendable {
    var payments: PaymentsDatabase?
    var points: PointsDatabase?
    var deadLetters: DeadLetterStore?

    subscript(part: Part) -> SagaDatabase? {
      switch part {
      case .payments: payments?.storage
      case .points: points?.storage
      case .deadLetters: deadLetters?.database
      }
    }

    var parts: [Part] { Part.allCases.filter { self[$0] != nil } }

    func close() async {
      for part in parts { try? await self[part]?.close() }
    }
  }

  let stateDirectory: String
  let postgres: PostgresStorageConfiguration
  var rule = RewardRule.standard
  var dryRun = false
  let logger: Logger
  /// Where the report's lines go (stdout).
  let output: @Sendable (String) -> Void

  func run() async throws {
    let parts = Part.allCases.filter { FileManager.default.fileExists(atPath: path(of: $0)) }
    guard !parts.isEmpty else {
      throw MigrateStorageError(
        "\(stateDirectory) holds no \(Part.allCases.map(\.file).joined(separator: ", ")): nothing to migrate")
    }
    try refuseAnsweringDaemon()
    // Held until the end: no sagad can open the files while they are read.
    let source = try await openSource(parts)
    do {
      try await migrate(source)
    } catch {
      await source.close()
      throw error
    }
    await source.close()
  }

  private func migrate(_ source: Databases) async throws {
    let (violations, checked) = try await audit(source)
    guard violations.isEmpty else {
      for violation in violations { output(violation) }
      throw MigrateStorageError(
        "the SQLite state in \(stateDirectory) fails its audit (\(violations.count) violations above); nothing "
          + "was copied: a copy would carry the damage over")
    }
    output("audit of \(stateDirectory): clean (\(checked))")
    let occupied = try await occupiedTables(of: source.parts)
    guard occupied.isEmpty else {
      throw MigrateStorageError(
        "\(postgres.redactedURL) already holds sagad rows in \(occupied.joined(separator: ", ")); nothing was "
          + "copied: migrate-storage copies only into empty schemas")
    }
    if dryRun {
      var rows: [(String, PostgresImport.Table)] = []
      for part in source.parts {
        rows += try await PostgresImport.tables(of: source[part]!).map { ("\(part.rawValue).\($0.name)", $0) }
      }
      summary(rows)
      output("dry run: the target is empty; nothing was written to \(postgres.redactedURL)")
      return
    }
    let target = try await copy(source)
    do {
      try await prove(source, against: target)
    } catch {
      await target.close()
      throw error
    }
    await target.close()
  }

  // MARK: - Before the copy

  /// A sagad that answers on the state directory's socket (`--dev`'s) is still running. The
  /// exclusive lock taken next is what catches one whose socket is elsewhere.
  private func refuseAnsweringDaemon() throws {
    let socket = stateDirectory + "/sagad.sock"
    guard FileManager.default.fileExists(atPath: socket),
      let client = try? AdminClient(socketPath: socket, timeout: .seconds(2))
    else { return }
    client.close()
    throw MigrateStorageError("a sagad answers on \(socket): stop it before migrating its state")
  }

  private func openSource(_ parts: [Part]) async throws -> Databases {
    var source = Databases()
    do {
      for part in parts {
        let file = path(of: part)
        switch part {
        case .payments: source.payments = try PaymentsDatabase(exclusive: file)
        case .points: source.points = try PointsDatabase(exclusive: file)
        case .deadLetters: source.deadLetters = try DeadLetterStore(exclusive: file)
        }
      }
      return source
    } catch let error as StorageError {
      await source.close()
      guard error.kind == .busy else { throw MigrateStorageError("\(error.path): \(error.message)") }
      throw MigrateStorageError(
        "\(error.path) is in use by another process (a sagad still running?): stop sagad, then run this again")
    }
  }

  /// `verify`'s checks (Docs/admin-protocol.md) on whichever services `databases` hold, and
  /// across them when both; returns the violations and what was checked.
  private func audit(_ databases: Databases) async throws -> (violations: [String], checked: String) {
    var violations: [String] = []
    var checked: [String] = []
    var audited: [AuditedPayment]?
    var entries: [PointsAuditEntry]?
    if let database = databases.payments {
      let payments = PaymentsService(database: database)
      violations += try await payments.verify().map { "payments: \($0)" }
      audited = try await payments.auditedPayments()
      checked.append("payments")
    }
    if let database = databases.points {
      let points = PointsService(database: database)
      violations += try await points.verify().map { "points: \($0)" }
      let recorded = try await points.auditEntries()
      violations += CrossServiceAudit.pointsViolations(recorded, rule: rule).map { "points: \($0)" }
      entries = recorded
      checked.append("points")
    }
    if let audited, let entries {
      violations += CrossServiceAudit.violations(payments: audited, points: entries, rule: rule).map { "saga: \($0)" }
      checked.append("across both")
    }
    return (violations, checked.isEmpty ? "no service database" : checked.joined(separator: ", "))
  }

  /// The tables of the schemas `parts` go to that hold rows, as `schema.table (n rows)`. Looked
  /// at without creating anything, so that a dry run writes nothing.
  private func occupiedTables(of parts: [Part]) async throws -> [String] {
    let database = SagaDatabase(postgres: try await PostgresEngine.connect(postgres, schema: "public", logger: logger))
    let schemas = Set(parts.map(\.rawValue))
    do {
      let found = try await database.read { pg in
        let tables = try pg.query(
          """
          SELECT table_schema::text, table_name::text FROM information_schema.tables
          WHERE table_type = 'BASE TABLE' AND table_name <> 'sagad_migrations' ORDER BY 1, 2
          """
        ).map { (try $0.decode(0, as: String.self), try $0.decode(1, as: String.self)) }
        return try tables.filter { schemas.contains($0.0) }.compactMap { schema, table -> String? in
          let rows =
            try pg.value(Int64.self, "SELECT count(*) FROM \(Self.quoted(schema)).\(Self.quoted(table))") ?? 0
          return rows == 0 ? nil : "\(schema).\(table) (\(Self.count(rows, "row")))"
        }
      }
      try? await database.close()
      return found
    } catch {
      try? await database.close()
      throw error
    }
  }

  // MARK: - The copy and its proof

  /// Each database into its schema, created and migrated first, in one transaction each.
  private func copy(_ source: Databases) async throws -> Databases {
    var target = Databases()
    var committed: [Part] = []
    do {
      for part in source.parts {
        switch part {
        case .payments: target.payments = try await PaymentsDatabase.open(postgres: postgres, logger: logger)
        case .points: target.points = try await PointsDatabase.open(postgres: postgres, logger: logger)
        case .deadLetters: target.deadLetters = try await DeadLetterStore.open(postgres: postgres, logger: logger)
        }
        let tables = try await PostgresImport(from: source[part]!, to: target[part]!).copy()
        committed.append(part)
        let rows = tables.reduce(Int64(0)) { $0 + $1.sqliteRows }
        output(
          "copied \(part.file) into schema \(part.rawValue): \(Self.count(rows, "row")) in "
            + Self.count(Int64(tables.count), "table"))
      }
    } catch {
      await target.close()
      let left =
        committed.isEmpty
        ? "nothing was copied"
        : "schema \(committed.map(\.rawValue).joined(separator: ", ")) was copied and committed; drop it "
          + "(DROP SCHEMA … CASCADE) before running this again"
      throw MigrateStorageError("the copy failed: \(error); \(left)")
    }
    return target
  }

  /// Every table's rows on both sides, and the audit on PostgreSQL.
  private func prove(_ source: Databases, against target: Databases) async throws {
    var rows: [(String, PostgresImport.Table)] = []
    for part in source.parts {
      rows += try await PostgresImport(from: source[part]!, to: target[part]!).counts().map {
        ("\(part.rawValue).\($0.name)", $0)
      }
    }
    summary(rows)
    let mismatches = rows.filter { $0.1.postgresRows ?? 0 != $0.1.sqliteRows }.map(\.0)
    let (violations, checked) = try await audit(target)
    for violation in violations { output("postgres: \(violation)") }
    output(
      violations.isEmpty
        ? "audit of \(postgres.redactedURL): clean (\(checked))"
        : "audit of \(postgres.redactedURL): \(violations.count) violations")
    guard mismatches.isEmpty, violations.isEmpty else {
      let counts = mismatches.isEmpty ? "" : "row counts differ in \(mismatches.joined(separator: ", ")); "
      throw MigrateStorageError(
        "the copy does not match its source: \(counts)\(violations.count) audit violations; keep sagad on SQLite "
          + "(its files are unchanged) and drop the copied schemas")
    }
    output("migrated: every table matches and the audit is clean on both sides")
  }

  /// `table  sqlite-rows  postgres-rows`, one line per table (`-`: PostgreSQL has no such table).
  private func summary(_ rows: [(String, PostgresImport.Table)]) {
    let lines =
      [("table", "sqlite-rows", "postgres-rows")]
      + rows.map { ($0.0, String($0.1.sqliteRows), $0.1.postgresRows.map(String.init) ?? "-") }
    let width = lines.map(\.0.count).max() ?? 0
    let sqliteWidth = lines.map(\.1.count).max() ?? 0
    for (table, sqlite, postgres) in lines {
      let name = table.padding(toLength: width, withPad: " ", startingAt: 0)
      let left = String(repeating: " ", count: sqliteWidth - sqlite.count) + sqlite
      let right = String(repeating: " ", count: max(0, 13 - postgres.count)) + postgres
      output("\(name)  \(left)  \(right)")
    }
  }

  /// `1 row`, `2 rows`.
  private static func count(_ number: Int64, _ noun: String) -> String {
    "\(number) \(noun)\(number == 1 ? "" : "s")"
  }

  private func path(of part: Part) -> String { stateDirectory + "/" + part.file }

  private static func quoted(_ identifier: String) -> String {
    "\"" + identifier.replacingOccurrences(of: "\"", with: "\"\"") + "\""
  }
}
