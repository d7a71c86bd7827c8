import Foundation
import Payments
import Points
import SagaCore
import SagaRuntime
import SagaStorage
import SagaTestSupport
import Synchronization
import Testing

@testable import SagaDaemon

/// `sagad migrate-storage`: a stopped instance's SQLite state, with a row in every table, copied
/// into PostgreSQL row for row and audited there; and the refusals (a target that holds rows, a
/// source that fails its audit, files or a socket still in use, a password in the URL).
@Suite("sagad migrate-storage: SQLite state into PostgreSQL", .timeLimit(.minutes(3)))
struct MigrateStorageTests {
  /// What the command printed.
  private final class Report: Sendable {
    private let lines = Mutex<[String]>([])
    func append(_ line: String) { lines.withLock { $0.append(line) } }
    var text: String { lines.withLock { $0.joined(separator: "\n") } }
  }

  /// The SQLite databases of a state directory, by the schema each goes to.
  private static let files = ["payments": "payments.sqlite", "points": "points.sqlite", "dead_letters": "dlt.sqlite"]

  private static func migration(
    _ directory: TemporaryDirectory, url: String, dryRun: Bool = false, report: Report
  ) throws -> StorageMigration {
    StorageMigration(
      stateDirectory: directory.path, postgres: try PostgresStorageConfiguration(url: url), dryRun: dryRun,
      logger: quietLogger, output: { report.append($0) })
  }

  /// A URL nothing listens on: for refusals that must come before PostgreSQL is asked anything.
  private static let unreachable = "postgres://sagad@127.0.0.1:9/sagad?sslmode=disable"

  @Test(
    "a dry run writes nothing; the copy has every row of every table, audits clean, ids go on; a second run is refused")
  func copiesEveryRow() async throws {
    let server = try await PostgresServer.start()
    defer { server.stop() }
    let directory = try TemporaryDirectory()
    try await Self.makeState(in: directory)
    let url = server.url + "?sslmode=disable"

    let dry = Report()
    try await Self.migration(directory, url: url, dryRun: true, report: dry).run()
    #expect(dry.text.contains("dry run: the target is empty; nothing was written"), "\(dry.text)")
    #expect(dry.text.contains("clean (payments, points, across both)"), "\(dry.text)")
    #expect(
      dry.text.split(separator: "\n").contains { $0.split(separator: " ") == ["payments.payments", "3", "-"] },
      "\(dry.text)")
    let schemas = try await server.psql(
      "SELECT count(*) FROM information_schema.schemata WHERE schema_name IN ('payments', 'points', 'dead_letters')")
    #expect(schemas == "0", "the dry run created nothing")

    let report = Report()
    do {
      try await Self.migration(directory, url: url, report: report).run()
    } catch {
      Issue.record("\(report.text)\n\(error)")
      throw error
    }
    #expect(report.text.contains("migrated: every table matches and the audit is clean on both sides"))
    #expect(report.text.contains("table  "), "the per-table summary: \(report.text)")
    for line in ["payments.outbox ", "points.retry_schedule ", "points.dead_lettered ", "dead_letters.dead_letters "] {
      #expect(report.text.split(separator: "\n").contains { $0.hasPrefix(line) }, "\(line) in \(report.text)")
    }

    // Every row of every table, byte for byte (a TEXT key and its BYTEA copy are the same bytes).
    let configuration = try PostgresStorageConfiguration(url: url)
    let targets: [String: SagaDatabase] = [
      "payments": try await PaymentsDatabase.open(postgres: configuration, logger: quietLogger).storage,
      "points": try await PointsDatabase.open(postgres: configuration, logger: quietLogger).storage,
      "dead_letters": try await DeadLetterStore.open(postgres: configuration, logger: quietLogger).database,
    ]
    for (schema, file) in Self.files {
      let source = try Self.sqlite(schema, in: directory.path + "/" + file)
      let tables = try await source.read { db in
        try db.query(
          "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT IN ('sqlite_sequence', 'grdb_migrations')"
        ).map { try $0.decode(0, as: String.self) }
      }
      #expect(!tables.isEmpty)
      for table in tables {
        let columns = try await source.read { db in
          try db.query("SELECT name FROM pragma_table_info(?)", [table]).map { try $0.decode(0, as: String.self) }
        }
        let expected = try await Self.rows(of: table, columns: columns, in: source)
        let copied = try await Self.rows(of: table, columns: columns, in: targets[schema]!)
        #expect(!expected.isEmpty, "\(schema).\(table) has rows to copy")
        #expect(copied == expected, "\(schema).\(table)")
      }
      try await source.close()
    }

    // The audit passes on PostgreSQL, and new ids continue after the copied ones: after the
    // highest id SQLite ever handed out, even where the row is gone (a purged outbox row).
    let payments = PaymentsService(
      database: try await PaymentsDatabase.open(postgres: configuration, logger: quietLogger))
    #expect(try await payments.verify().isEmpty)
    let next = try await payments.pay(PayRequest(userId: 1, scheduleId: 9, seat: nil, amount: 1_000))
    #expect(next.paymentId == 4)
    let purged = try await Self.sqliteSequence("outbox", in: directory.path + "/points.sqlite")
    let outboxId = try await targets["points"]!.write { db in
      try Outbox.append(OutboxMessage(topic: "probe", key: nil, payload: [1]), in: db)
    }
    #expect(outboxId == purged + 1)
    for target in targets.values { try await target.close() }
    try await payments.database.storage.close()

    let again = Report()
    let refusal = await #expect(throws: MigrateStorageError.self) {
      try await Self.migration(directory, url: url, report: again).run()
    }
    #expect(refusal?.description.contains("already holds sagad rows in") == true, "\(String(describing: refusal))")
    #expect(refusal?.description.contains("payments.payments (4 rows)") == true, "\(String(describing: refusal))")
  }

  @Test("a source that fails its audit is refused with its violations, before PostgreSQL is asked anything")
  func refusesFailingAudit() async throws {
    let directory = try TemporaryDirectory()
    try await Self.makeState(in: directory)
    let database = try PaymentsDatabase(opening: StorageConfiguration(path: directory.path + "/payments.sqlite"))
    _ = try await database.write { db in try db.execute("UPDATE wallets SET balance = balance + 1 WHERE user_id = 1") }
    try await database.storage.close()
    let report = Report()
    let refusal = await #expect(throws: MigrateStorageError.self) {
      try await Self.migration(directory, url: Self.unreachable, report: report).run()
    }
    #expect(refusal?.description.contains("fails its audit") == true, "\(String(describing: refusal))")
    #expect(report.text.contains("payments: user 1: balance"), "\(report.text)")
  }

  @Test("files another connection holds open are refused, naming the file")
  func refusesFilesInUse() async throws {
    let directory = try TemporaryDirectory()
    try await Self.makeState(in: directory)
    // An idle open pool, as a running sagad keeps its files: no write lock, yet in use.
    let database = try PaymentsDatabase(opening: StorageConfiguration(path: directory.path + "/payments.sqlite"))
    let refusal = await #expect(throws: MigrateStorageError.self) {
      try await Self.migration(directory, url: Self.unreachable, report: Report()).run()
    }
    #expect(refusal?.description.contains("payments.sqlite is in use by another process") == true)
    try await database.storage.close()
  }

  @Test("the sagad binary refuses while a sagad answers on the state directory's socket, and a URL with a password")
  func refusesRunningDaemonAndPasswordURL() async throws {
    let dev = try DevDaemon()
    defer { dev.process.killIfRunning() }
    try await waitForAdminSocket(dev.socket, of: dev.process)
    let sagad = try sagadBinary()
    let running = try await run(sagad, ["migrate-storage", "--from", dev.directory.path, "--to", Self.unreachable])
    #expect(running.status == 1, "\(running.stderr)")
    #expect(running.stderr.contains("a sagad answers on \(dev.socket)"), "\(running.stderr)")

    let password = try await run(
      sagad, ["migrate-storage", "--from", dev.directory.path, "--to", "postgres://sagad:secret@127.0.0.1/sagad"])
    #expect(password.status == 64, "\(password.stderr)")
    #expect(password.stderr.contains("--to holds a password"), "\(password.stderr)")
    #expect(!password.stderr.contains("secret@"))
  }

  @Test("the password comes from --password-file, else PGPASSWORD")
  func password() throws {
    let directory = try TemporaryDirectory()
    let file = directory.path + "/pg-password"
    try "from-file\n".write(toFile: file, atomically: true, encoding: .utf8)
    let parsed = try SagadCommand.parseAsRoot([
      "migrate-storage", "--from", directory.path, "--to", "postgres://sagad@db.example/sagad", "--password-file", file,
    ])
    let command = try #require(parsed as? MigrateStorageCommand)
    #expect(try command.target(environment: ["PGPASSWORD": "ignored"]).password == "from-file")
    let plain = try MigrateStorageCommand.parse(["--from", directory.path, "--to", "postgres://sagad@db.example/sagad"])
    #expect(try plain.target(environment: ["PGPASSWORD": "from-env"]).password == "from-env")
    #expect(try plain.target(environment: [:]).password == nil)
  }

  // MARK: - The source state

  /// A stopped instance's state directory with rows in every table: a rewarded payment, a
  /// refunded one (user 2 is not enrolled in Points), one still PAID whose ReservationCompleted
  /// is unsent, an unsent outbox row with a binary key, inbox, retry and dead-lettered rows, a
  /// purged outbox row (so SQLite's AUTOINCREMENT is ahead of the highest id) and a dead letter
  /// with a key that is not UTF-8. Everything is closed when it returns.
  private static func makeState(in directory: TemporaryDirectory) async throws {
    let payments = PaymentsService(
      database: try PaymentsDatabase(opening: StorageConfiguration(path: directory.path + "/payments.sqlite")))
    let points = PointsService(
      database: try PointsDatabase(opening: StorageConfiguration(path: directory.path + "/points.sqlite")))
    try await payments.addUser(id: 1, initialBalance: 100_000)
    _ = try await points.enroll(userId: 1)
    try await payments.addUser(id: 2, initialBalance: 100_000)
    _ = try await payments.pay(PayRequest(userId: 1, scheduleId: 1, seat: nil, amount: 50_000))
    _ = try await payments.pay(PayRequest(userId: 2, scheduleId: 1, seat: "A1", amount: 20_000))
    try await settle(payments, points)
    #expect(try await payments.payment(id: 1)?.status == .rewarded)
    #expect(try await payments.payment(id: 2)?.status == .refunded)
    _ = try await payments.pay(PayRequest(userId: 1, scheduleId: 2, seat: nil, amount: 10_000))
    try await payments.database.write { db in
      try Outbox.append(OutboxMessage(topic: "probe", keyContent: .binary([0xff, 0x00, 0x7f]), payload: [0]), in: db)
      // A compensation parked for a payment Payments never made, and the sweeper's counters.
      try db.execute(
        """
        INSERT INTO compensation_failures (payment_id, user_id, refund_amount, reason_code, reason, created_at)
        VALUES (999, 9, 500, 'unknown-payment', 'no such payment', 0)
        """)
      try db.execute(
        "INSERT INTO saga_republishes (payment_id, republish_count, last_republished_at, reason) VALUES (3, 1, 0, NULL)"
      )
      try storageRows(in: db)
    }
    try await points.database.write { db in
      try storageRows(in: db)
      // What the relay's retention does to an old sent row.
      let highest = try db.value(Int64.self, "SELECT MAX(id) FROM outbox WHERE sent_at IS NOT NULL") ?? 0
      try db.execute("DELETE FROM outbox WHERE id = ?", [highest])
    }
    let store = try DeadLetterStore(StorageConfiguration(path: directory.path + "/dlt.sqlite"))
    try await store.record([
      ReceivedDeadLetter(
        topic: SagaTopic.reservationCompleted.rawValue + SagaTopic.deadLetterSuffix, partition: 0, offset: 5,
        timestampMilliseconds: 1_700_000_000_000, key: [0xff, 0xfe], value: Array("{}".utf8),
        headers: [RecordHeader(name: HeaderName.DeadLetter.exceptionMessage, value: "boom")])
    ])
    try await store.database.close()
    try await payments.database.storage.close()
    try await points.database.storage.close()
  }

  /// An inbox row, a parked retry and a dead-lettered mark, as the consume loop writes them.
  private static func storageRows(in db: any SQLConnection) throws {
    let record = InboundMessage(
      topic: SagaTopic.reservationCompleted.rawValue, partition: 2, offset: 40, key: Array("7".utf8),
      value: [0x01, 0xfe], headers: [RecordHeader(name: "note", value: "probe")], timestampMilliseconds: 1_000)
    _ = try Inbox.claim(group: "probe", eventId: "probe-event", topic: record.topic, partition: 2, offset: 39, in: db)
    try RetrySchedule.park(
      record, group: "probe", timestampType: "CreateTime", attempts: 1, error: SagaError(.databaseBusy, "busy"),
      at: Date(), dueAt: Date() + 60, in: db)
    let letter = DeadLetter(
      message: record, consumerGroup: "probe", timestampType: nil,
      error: SagaError(.invalidValue, "bad", failureClass: .permanent), failureClass: .permanent, attempts: 3)
    _ = try DeadLetters.mark(letter, at: Date(), in: db)
  }

  /// Hands every unsent outbox row of each service to the other's handler (what the relays
  /// and consumers do over Kafka) until none is left.
  private static func settle(_ payments: PaymentsService, _ points: PointsService) async throws {
    while true {
      let messages = try await take(payments.database.storage) + (try await take(points.database.storage))
      if messages.isEmpty { return }
      for message in messages {
        try await InProcessDelivery.deliver(message, payments: payments, points: points)
      }
    }
  }

  private static func take(_ database: SagaDatabase) async throws -> [InboundMessage] {
    try await database.write { db in
      let records = try Outbox.pending(limit: 1000, in: db)
      try Outbox.markSent(ids: records.map(\.id), in: db)
      return records.map { record in
        InboundMessage(
          topic: record.message.topic, partition: 0, offset: record.id, key: record.message.key.map { Array($0.utf8) },
          value: record.message.payload, headers: record.message.headers)
      }
    }
  }

  // MARK: - Comparing

  /// The table's rows as sorted lines, bytes and texts both in hex: SQLite may hold a key as
  /// TEXT that PostgreSQL holds as BYTEA, and the two must be the same bytes.
  private static func rows(of table: String, columns: [String], in database: SagaDatabase) async throws -> [String] {
    let list = columns.map { "\"\($0)\"" }.joined(separator: ", ")
    return try await database.read { db in
      try db.query("SELECT \(list) FROM \"\(table)\"").map { row in
        row.values.map { value -> String in
          switch value {
          case .null: "NULL"
          case .integer(let number): String(number)
          case .real(let number): "\(number)"
          case .text(let text): "x" + text.utf8.map { String(format: "%02x", $0) }.joined()
          case .blob(let bytes): "x" + bytes.map { String(format: "%02x", $0) }.joined()
          }
        }.joined(separator: "|")
      }.sorted()
    }
  }

  /// The SQLite file of `schema`'s database, opened as sagad opens it.
  private static func sqlite(_ schema: String, in path: String) throws -> SagaDatabase {
    switch schema {
    case "payments": try PaymentsDatabase(opening: StorageConfiguration(path: path)).storage
    case "points": try PointsDatabase(opening: StorageConfiguration(path: path)).storage
    default: try DeadLetterStore(StorageConfiguration(path: path)).database
    }
  }

  private static func sqliteSequence(_ table: String, in path: String) async throws -> Int64 {
    let database = try Self.sqlite("points", in: path)
    let sequence = try await database.read { db in
      try db.value(Int64.self, "SELECT seq FROM sqlite_sequence WHERE name = ?", [table])
    }
    try await database.close()
    return try #require(sequence)
  }
}
