import ArgumentParser
import Foundation
import Logging
import NIOCore
import NIOPosix
import Payments
import PostgresNIO
import SagaStorage

/// `sagad-bench postgres`: what a statement costs sagad's process on its way to PostgreSQL and
/// back, by the path it takes (Docs/benchmarks.md, "2026-12-07 (night)"). `engine`: the stores'
/// path today, a synchronous body on one of the engine's threads, each statement handed to the
/// connection's event loop and waited for on a semaphore (two thread wake-ups per statement, two
/// more per transaction). `eventloop`: the same statements awaited by an actor that runs on the
/// connection's event loop, so that an answer resumes the transaction where it arrived (no
/// wake-up but the socket's); they go unprepared there (Parse, Bind, Execute) where the engine
/// path binds prepared ones, so its saving is if anything understated. Transactions of
/// `--statements` inserts, `--concurrency` at once, each on its own connection; prints one JSON
/// line with the process's CPU and context switches per statement.
struct PostgresBenchCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "postgres", abstract: "Measure the process's cost of a PostgreSQL statement by the path it takes.")

  @Option(help: "libpq-style URL of a database the bench may write a table into.") var url: String
  @Option(help: "engine or eventloop.") var path = "engine"
  @Option(help: "Transactions to run.") var transactions = 5_000
  @Option(help: "Inserts per transaction (BEGIN and COMMIT come on top).") var statements = 3
  @Option(help: "Transactions at once, each on its own connection.") var concurrency = 4

  func validate() throws {
    guard ["engine", "eventloop"].contains(path) else { throw ValidationError("--path: engine or eventloop") }
    guard transactions > 0, statements > 0, concurrency > 0 else {
      throw ValidationError("--transactions, --statements and --concurrency must be > 0")
    }
  }

  func run() async throws {
    var logger = Logger(label: "sagad-bench")
    logger.logLevel = .error
    var configuration = try PostgresStorageConfiguration(url: url)
    configuration.poolSize = concurrency
    let database = try await PaymentsDatabase.open(postgres: configuration, logger: logger).storage
    try await database.write { db in
      _ = try db.execute("CREATE TABLE IF NOT EXISTS bench_rows (id BIGSERIAL PRIMARY KEY, value BIGINT NOT NULL)")
    }
    let perTask = transactions / concurrency
    let before = Usage.now()
    let clock = ContinuousClock()
    let start = clock.now
    let statements = self.statements
    switch path {
    case "engine":
      try await withThrowingTaskGroup(of: Void.self) { group in
        for _ in 0..<concurrency {
          group.addTask {
            for index in 0..<perTask {
              try await database.write { db in
                for statement in 0..<statements {
                  _ = try db.execute(
                    "INSERT INTO bench_rows (value) VALUES (?)", [Int64(index * statements + statement)])
                }
              }
            }
          }
        }
        try await group.waitForAll()
      }
    default:
      var sessions: [EventLoopSession] = []
      for _ in 0..<concurrency { sessions.append(try await EventLoopSession.connect(configuration, logger: logger)) }
      try await withThrowingTaskGroup(of: Void.self) { group in
        for session in sessions {
          group.addTask { try await session.run(transactions: perTask, statements: statements) }
        }
        try await group.waitForAll()
      }
      for session in sessions { try await session.close() }
    }
    let elapsed = clock.now - start
    let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
    let after = Usage.now()
    try await database.close()
    let count = Double(perTask * concurrency * (statements + 2))
    let cpu = after.cpuSeconds - before.cpuSeconds
    let report: [String: Any] = [
      "path": path, "transactions": perTask * concurrency, "statementsPerTransaction": statements + 2,
      "concurrency": concurrency, "seconds": seconds, "statementsPerSecond": count / seconds,
      "cpuMicrosecondsPerStatement": cpu / count * 1e6,
      "voluntarySwitchesPerStatement": Double(after.voluntarySwitches - before.voluntarySwitches) / count,
      "involuntarySwitchesPerStatement": Double(after.involuntarySwitches - before.involuntarySwitches) / count,
    ]
    let data = try JSONSerialization.data(withJSONObject: report, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
  }
}

/// One connection driven from its own event loop: an actor whose executor is that loop, so the
/// statements' answers resume it on the thread that read them.
private actor EventLoopSession {
  let connection: PostgresConnection
  private let logger: Logger
  nonisolated let unownedExecutor: UnownedSerialExecutor

  private init(connection: PostgresConnection, logger: Logger) {
    self.connection = connection
    self.logger = logger
    self.unownedExecutor = connection.eventLoop.executor.asUnownedSerialExecutor()
  }

  static func connect(_ configuration: PostgresStorageConfiguration, logger: Logger) async throws -> EventLoopSession {
    let connection = try await PostgresConnection.connect(
      on: MultiThreadedEventLoopGroup.singleton.next(),
      configuration: PostgresConnection.Configuration(
        host: configuration.host, port: configuration.port, username: configuration.user,
        password: configuration.password, database: configuration.database, tls: .disable),
      id: 1, logger: logger)
    return EventLoopSession(connection: connection, logger: logger)
  }

  func run(transactions: Int, statements: Int) async throws {
    for index in 0..<transactions {
      try await answer(send("BEGIN"))
      for statement in 0..<statements {
        let value = Int64(index * statements + statement)
        try await answer(send("INSERT INTO payments.bench_rows (value) VALUES (\(value))"))
      }
      try await answer(send("COMMIT"))
    }
  }

  /// The statement handed to the connection (on this, its event loop's thread: written at once).
  private nonisolated func send(_ query: PostgresQuery) -> EventLoopFuture<PostgresQueryResult> {
    connection.query(query, logger: logger)
  }

  func close() async throws {
    try await connection.close()
  }

  /// Waits for `future` on this actor's executor: its callback runs on the event loop and
  /// resumes the actor there (a nonisolated `get()` would hop to the global executor and back).
  private func answer<T: Sendable>(_ future: EventLoopFuture<T>) async throws {
    _ = try await withUnsafeThrowingContinuation { (continuation: UnsafeContinuation<T, any Error>) in
      future.whenComplete { continuation.resume(with: $0) }
    }
  }
}

/// The process's CPU time and context switches so far (`getrusage`).
private struct Usage {
  var cpuSeconds: Double
  var voluntarySwitches: Int
  var involuntarySwitches: Int

  static func now() -> Usage {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    let cpu =
      Double(usage.ru_utime.tv_sec + usage.ru_stime.tv_sec)
      + Double(usage.ru_utime.tv_usec + usage.ru_stime.tv_usec) / 1e6
    return Usage(cpuSeconds: cpu, voluntarySwitches: usage.ru_nvcsw, involuntarySwitches: usage.ru_nivcsw)
  }
}
