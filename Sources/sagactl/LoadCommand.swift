import AdminProtocol
import ArgumentParser
import Foundation

/// `sagactl load`: real payments through the admin socket, then the throughput, the saga
/// latencies, the outcomes and `verify`. Not a protocol command: it is many requests.
struct LoadCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "load",
    abstract: "Drive payments through sagad, wait for every saga to end, report throughput, latency and verify.",
    discussion: """
      Creates --users new users (the first --unenrolled share without a point account, so their sagas \
      are compensated), each with enough KRW, then makes --payments payments round robin over them on \
      --concurrency connections, at --rate payments/s if given. It waits until every saga is terminal \
      (REWARDED, REFUNDED, COMPENSATION_FAILED), prints the figures and runs verify. Latency is payment \
      commit → the saga's last update, from sagad's own timestamps. Exit status 1 when verify finds a \
      violation or a saga did not end within --settle-timeout.
      """)

  @ParentCommand var root: SagaCtl
  @OptionGroup var options: GlobalOptions
  @Option(help: ArgumentHelp("How many payments to make.", valueName: "N")) var payments: Int
  @Option(help: ArgumentHelp("Payments started per second (default: as fast as possible).", valueName: "R"))
  var rate: Double?
  @Option(help: ArgumentHelp("How many users pay, round robin.", valueName: "U")) var users = 100
  @Option(help: ArgumentHelp("Share of users without a point account, 0…1.", valueName: "F")) var unenrolled = 0.0
  @Option(help: ArgumentHelp("Connections used at once.", valueName: "C")) var concurrency = 8
  @Option(
    help: ArgumentHelp(
      "Pay requests each connection sends before reading their replies (without --rate; with it one at a time).",
      valueName: "P"))
  var pipeline = 8
  @Option(
    help: ArgumentHelp(
      "Another instance's admin socket (repeatable): connections go round robin over --socket and these.",
      discussion: """
        Several instances per role on one PostgreSQL database all take `pay`: one load spread over \
        them, as clients behind a balancer would be. The first socket answers the polls for the \
        sagas' ends and verify (the database is shared).
        """, valueName: "path"))
  var alsoSocket: [String] = []
  @Option(help: ArgumentHelp("KRW per payment.", valueName: "A")) var amount: Int64 = 10_000
  @Option(help: ArgumentHelp("Id of the first user created (default: from the clock).", valueName: "ID"))
  var firstUser: Int64?
  @Option(help: ArgumentHelp("Seconds to wait for the sagas to end after the last payment.", valueName: "seconds"))
  var settleTimeout = 120

  func validate() throws {
    guard payments > 0 else { throw ValidationError("--payments must be > 0") }
    guard users > 0 else { throw ValidationError("--users must be > 0") }
    guard (0...1).contains(unenrolled) else { throw ValidationError("--unenrolled must be between 0 and 1") }
    guard concurrency > 0, concurrency <= 256 else { throw ValidationError("--concurrency must be 1…256") }
    guard amount > 0 else { throw ValidationError("--amount must be > 0") }
    // sagad reads no more of a connection past this many unanswered requests (Docs/admin-protocol.md).
    let depth = AdminProtocol.pipelineDepth
    guard (1...depth).contains(pipeline) else { throw ValidationError("--pipeline must be 1…\(depth)") }
    if let rate { guard rate > 0 else { throw ValidationError("--rate must be > 0") } }
    if let firstUser { guard firstUser > 0 else { throw ValidationError("--first-user must be > 0") } }
    guard settleTimeout > 0 else { throw ValidationError("--settle-timeout must be > 0") }
  }

  func run() async throws {
    let json = options.json || root.options.json
    let plan = LoadPlan(
      payments: payments, rate: rate, users: users, unenrolledFraction: unenrolled, concurrency: concurrency,
      pipeline: rate == nil ? pipeline : 1, amount: amount, firstUser: firstUser ?? LoadPlan.defaultFirstUser(),
      sockets: [options.socket ?? root.options.socket ?? GlobalOptions.defaultSocketPath()] + alsoSocket,
      requestTimeout: .seconds(max(1, options.timeout ?? root.options.timeout ?? 30)),
      settleTimeout: .seconds(settleTimeout))
    let runner = LoadRunner(plan: plan) { line in FileHandle.standardError.write(Data("load: \(line)\n".utf8)) }
    let report: LoadReport
    do {
      report = try runner.run()
    } catch {
      FileHandle.standardError.write(Data("sagactl: load: \(error)\n".utf8))
      throw ExitCode(1)
    }
    if json {
      let encoder = JSONEncoder()
      encoder.outputFormatting = [.sortedKeys]
      print(String(decoding: try encoder.encode(report), as: UTF8.self))
    } else {
      print(report.text)
    }
    if !report.verifyOk || report.outcomes["UNFINISHED"] != nil { throw ExitCode(1) }
  }
}
