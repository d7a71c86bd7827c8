/// One parameter of a command. Every parameter has a name, so `--name value`,
/// `--name=value` and `name=value` all work; positional ones may also be given bare.
public struct AdminParameter: Sendable, Hashable {
  public enum Kind: Sendable, Hashable {
    /// A signed 64-bit integer.
    case integer
    /// Any text.
    case text
    /// On or off: `--name` alone, or `name=true|false|1|0|yes|no|on|off`.
    case flag
    /// The rest of the bare words (positional only).
    case words
  }

  public let name: String
  public let kind: Kind
  public let positional: Bool
  public let required: Bool
  /// The placeholder in the usage line (`N`, `id`).
  public let valueName: String
  public let summary: String

  init(
    _ name: String, _ kind: Kind, positional: Bool = false, required: Bool = false, valueName: String = "",
    _ summary: String
  ) {
    self.name = name
    self.kind = kind
    self.positional = positional
    self.required = required
    self.valueName = valueName.isEmpty ? name : valueName
    self.summary = summary
  }

  /// How the usage line shows it: `<id>`, `--user U`, `[--no-points]`.
  var usage: String {
    let bare: String
    switch (positional, kind) {
    case (true, .words): bare = "[\(valueName)...]"
    case (true, _): bare = "<\(valueName)>"
    case (false, .flag): bare = "--\(name)"
    case (false, _): bare = "--\(name) \(valueName)"
    }
    return required || kind == .words ? bare : "[\(bare)]"
  }
}

/// The commands this sagad understands: the same names in the protocol and as `sagactl`
/// subcommands (issue 5 lists more; they join as their features land). One catalog for
/// the server's parser, its `help`, the level checks and the client.
public enum AdminCommand: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
  case help
  case version
  case status
  case workers
  case userAdd = "user add"
  case charge
  case balance
  case pay
  case payment
  case saga
  case verify
  case dltList = "dlt list"
  case dltShow = "dlt show"
  case dltReplay = "dlt replay"
  case dltDiscard = "dlt discard"
  case logLevel = "log-level"
  case lag
  case drain
  case shutdown
  case compensationsList = "compensations list"
  case compensationsRetry = "compensations retry"
  case compensationsResolve = "compensations resolve"
  case stuck
  case failpointSet = "failpoint set"
  case failpointClear = "failpoint clear"
  case failpointList = "failpoint list"
  case pause
  case resume
  case restart

  public var description: String { rawValue }

  /// The words that name it on the line (`["user", "add"]`).
  public var words: [String] { rawValue.split(separator: " ").map(String.init) }

  /// The lowest level allowed to run it.
  public var level: PermissionLevel {
    switch self {
    case .help, .version, .status, .workers, .balance, .payment, .saga, .verify: .read
    case .compensationsList, .stuck: .read
    case .userAdd, .charge, .pay: .operate
    case .dltList, .dltShow: .read
    case .dltReplay, .dltDiscard: .operate
    case .lag: .read
    case .logLevel: .operate
    case .drain, .shutdown: .admin
    case .compensationsRetry, .compensationsResolve: .operate
    // Arming can abort sagad (`crash`), as `shutdown` stops it; disarming only makes it safer.
    case .failpointSet: .admin
    case .failpointClear, .pause, .resume, .restart: .operate
    case .failpointList: .read
    }
  }

  /// Whether it changes state, and so leaves an audit log line (Docs/admin-protocol.md, "Connecting").
  public var isMutating: Bool { level > .read }

  public var summary: String {
    switch self {
    case .help: "list the commands, or describe one"
    case .version: "sagad's version and protocol revision"
    case .status: "roles, tasks, broker reachability, outbox, stuck sagas, compensations, dead letters"
    case .workers: "every supervised task (state, restarts, last error) and the consume workers' counters"
    case .userAdd: "create a user with a wallet, enrolled in Points unless --no-points"
    case .charge: "add KRW to a user's wallet"
    case .balance: "a user's wallet (KRW) and reward points"
    case .pay: "pay for a reservation; starts the saga"
    case .payment: "one payment and where its saga stands"
    case .saga: "the saga timeline of a payment, Payments' and Points' steps in time order"
    case .verify: "check the invariants of the local databases (and across them with both roles)"
    case .dltList: "dead letters stored from the .DLT topics, oldest first"
    case .dltShow: "one dead letter: its failure, original coordinates, message and headers"
    case .dltReplay: "publish dead letters to their original topic again (try --dry-run first)"
    case .dltDiscard: "set a dead letter aside with a note; replay --all skips it"
    case .logLevel: "show or change the level of sagad's log lines, at once"
    case .lag:
      "consumer lag of this sagad's groups and its partners' from the broker, per partition, judged OK/WARN/ERR"
    case .drain: "stop taking pay, finish in-flight payments, wait for the outbox to empty"
    case .shutdown: "stop sagad gracefully, as SIGTERM does"
    case .compensationsList: "parked compensations waiting for an operator (--all: closed ones too)"
    case .compensationsRetry: "run a parked compensation's refund again, once the cause is fixed"
    case .compensationsResolve: "close a parked compensation handled outside sagad, with a note"
    case .stuck: "sagas the sweeper gave up re-announcing (--all: also those it is re-announcing)"
    case .failpointSet: "arm a failpoint (needs failpoints.enabled): error(transient|permanent), delay(ms), crash"
    case .failpointClear: "disarm one failpoint, or all of them"
    case .failpointList: "the armed failpoints: action, trigger, hits so far"
    case .pause: "stop a consume worker fetching, keeping its group membership"
    case .resume: "let a paused consume worker fetch again"
    case .restart: "start a supervised task again now (also a failed one), its failure count reset"
    }
  }

  public var parameters: [AdminParameter] {
    switch self {
    case .help:
      [AdminParameter("command", .words, positional: true, "the command to describe")]
    case .dltList:
      [
        AdminParameter("topic", .text, valueName: "T", "the original topic, or its .DLT topic"),
        AdminParameter("reason", .text, valueName: "R", "a reason code (invalid-json) or text in the reason"),
        AdminParameter("since", .text, valueName: "TIME", "stored since: RFC 3339, or an age like 30m, 2h, 7d"),
        AdminParameter("status", .text, valueName: "S", "pending, replayed, discarded or all (default all)"),
        AdminParameter("limit", .integer, valueName: "N", "at most N rows (default 50)"),
        AdminParameter("after", .integer, valueName: "ID", "the rows after id ID (the next page)"),
      ]
    case .dltShow:
      [AdminParameter("id", .integer, positional: true, required: true, "the dead letter's id")]
    case .dltReplay:
      [
        AdminParameter("id", .integer, positional: true, "the dead letter's id (or --all)"),
        AdminParameter("all", .flag, "every pending dead letter matching --topic, --reason, --since"),
        AdminParameter("topic", .text, valueName: "T", "with --all: the original topic, or its .DLT topic"),
        AdminParameter("reason", .text, valueName: "R", "with --all: a reason code or text in the reason"),
        AdminParameter("since", .text, valueName: "TIME", "with --all: stored since (RFC 3339, or 30m, 2h, 7d)"),
        AdminParameter("dry-run", .flag, "only list what would be replayed; send nothing"),
      ]
    case .dltDiscard:
      [
        AdminParameter("id", .integer, positional: true, required: true, "the dead letter's id"),
        AdminParameter("note", .text, required: true, valueName: "TEXT", "why it is set aside, for the next operator"),
      ]
    case .version, .status, .workers, .verify, .lag, .shutdown:
      []
    case .logLevel:
      [
        AdminParameter(
          "level", .text, positional: true, valueName: "level",
          "trace, debug, info, notice, warning, error or critical (none: show the current one)")
      ]
    case .drain:
      [AdminParameter("timeout", .integer, valueName: "seconds", "how long to wait for the outbox (default 30)")]
    case .compensationsList:
      [AdminParameter("all", .flag, "also list compensations already retried or resolved")]
    case .compensationsRetry:
      [
        AdminParameter(
          "payment", .integer, positional: true, required: true, valueName: "paymentId", "the parked payment's id"),
        AdminParameter("by", .text, valueName: "NAME", "who asks (sagactl sends the login name)"),
      ]
    case .compensationsResolve:
      [
        AdminParameter(
          "payment", .integer, positional: true, required: true, valueName: "paymentId", "the parked payment's id"),
        AdminParameter("note", .text, required: true, valueName: "TEXT", "what was done outside sagad"),
        AdminParameter("by", .text, valueName: "NAME", "who resolves (sagactl sends the login name)"),
      ]
    case .stuck:
      [AdminParameter("all", .flag, "also list sagas still being re-announced")]
    case .failpointSet:
      [
        AdminParameter(
          "name", .text, positional: true, required: true,
          "points.reward, payments.refund, outbox.publish, consumer.before_offset_commit or db.commit"),
        AdminParameter(
          "action", .text, positional: true, required: true,
          "error(transient), error(permanent), delay(<ms>) or crash"),
        AdminParameter("count", .integer, valueName: "N", "fire on the next N hits only, then disarm"),
        AdminParameter("probability", .text, valueName: "P", "fire on each hit with probability P (0 < P <= 1)"),
      ]
    case .failpointClear:
      [
        AdminParameter("name", .text, positional: true, "the failpoint to disarm (or --all)"),
        AdminParameter("all", .flag, "disarm every failpoint"),
      ]
    case .failpointList:
      []
    case .pause, .resume:
      [AdminParameter("worker", .text, positional: true, required: true, "the consume worker's name (see `workers`)")]
    case .restart:
      [AdminParameter("worker", .text, positional: true, required: true, "the task's name (see `workers`)")]
    case .userAdd:
      [
        AdminParameter("id", .integer, positional: true, required: true, "the new user's id (> 0)"),
        AdminParameter("balance", .integer, valueName: "N", "initial wallet balance in KRW (default 0)"),
        AdminParameter("no-points", .flag, "do not enroll the user in Points"),
      ]
    case .charge:
      [
        AdminParameter("user", .integer, positional: true, required: true, "the user's id"),
        AdminParameter("amount", .integer, positional: true, required: true, "KRW to add (> 0)"),
      ]
    case .balance:
      [AdminParameter("user", .integer, positional: true, required: true, "the user's id")]
    case .pay:
      [
        AdminParameter("user", .integer, required: true, valueName: "U", "the paying user's id"),
        AdminParameter("schedule", .integer, required: true, valueName: "S", "the concert schedule's id"),
        AdminParameter("seat", .text, valueName: "N", "the seat label, e.g. A-12 (none: unreserved seating)"),
        AdminParameter("amount", .integer, required: true, valueName: "A", "KRW to pay (> 0)"),
      ]
    case .payment:
      [AdminParameter("id", .integer, positional: true, required: true, "the payment's id")]
    case .saga:
      [
        AdminParameter(
          "payment", .integer, positional: true, required: true, valueName: "paymentId", "the payment's id")
      ]
    }
  }

  /// `pay --user U --schedule S [--seat N] --amount A`.
  public var usage: String { ([rawValue] + parameters.map(\.usage)).joined(separator: " ") }

  func parameter(named name: String) -> AdminParameter? { parameters.first { $0.name == name } }
}
