/// The commands this sagad understands: the same names in the protocol and as `sagactl`
/// subcommands. The one catalogue both sides derive from: the server's parser, dispatch,
/// `help` and level checks, and sagactl's subcommands with their arguments, options and
/// help (`AdminCommandLine`). A case added here appears in both.
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
  case payments
  case saga
  case verify
  case audit
  case dltList = "dlt list"
  case dltShow = "dlt show"
  case dltReplay = "dlt replay"
  case dltDiscard = "dlt discard"
  case outboxList = "outbox list"
  case outboxShow = "outbox show"
  case outboxDiscard = "outbox discard"
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
    case .help, .version, .status, .workers, .balance, .payment, .payments, .saga, .verify, .audit: .read
    case .compensationsList, .stuck: .read
    case .userAdd, .charge, .pay: .operate
    case .dltList, .dltShow: .read
    case .dltReplay, .dltDiscard: .operate
    case .outboxList, .outboxShow: .read
    case .outboxDiscard: .operate
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
    case .payments: "the payments of an id range (at most 1,000 ids) and where their sagas stand"
    case .saga: "the saga timeline of a payment, Payments' and Points' steps in time order"
    case .verify:
      "check the invariants of the local databases, and across both services (both roles here, or --peer)"
    case .audit: "the records verify compares across services, as JSON (what verify --peer reads from the other sagad)"
    case .dltList: "dead letters stored from the .DLT topics, oldest first"
    case .dltShow: "one dead letter: its failure, original coordinates, message and headers"
    case .dltReplay: "publish dead letters to their original topic again (try --dry-run first)"
    case .dltDiscard: "set a dead letter aside with a note; replay --all skips it"
    case .outboxList: "outbox rows waiting to be published, with attempts and last error (--all: sent and closed too)"
    case .outboxShow: "one outbox row: state, topic, key, headers, value, attempts, why it was closed"
    case .outboxDiscard:
      "take a stuck pending row out of the outbox, with a note; it is kept as a discarded dead letter"
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
    case .outboxList:
      [
        AdminParameter("service", .text, valueName: "S", "payments or points (default: every service here)"),
        AdminParameter("all", .flag, "also rows already sent or closed, as long as retention keeps them"),
        AdminParameter("limit", .integer, valueName: "N", "at most N rows per service (default 50)"),
        AdminParameter("after", .integer, valueName: "ID", "the rows after id ID (the next page)"),
      ]
    case .outboxShow:
      [
        AdminParameter("service", .text, positional: true, required: true, "payments or points"),
        AdminParameter("id", .integer, positional: true, required: true, "the row's id in that service's outbox"),
      ]
    case .outboxDiscard:
      [
        AdminParameter("service", .text, positional: true, required: true, "payments or points"),
        AdminParameter("id", .integer, positional: true, required: true, "the pending row's id"),
        AdminParameter("note", .text, required: true, valueName: "TEXT", "why it is set aside, for the next operator"),
      ]
    case .verify:
      [
        AdminParameter(
          "peer", .text, valueName: "SOCKET",
          "the admin socket of the sagad that runs the other role: check across both services")
      ]
    case .version, .status, .workers, .audit, .lag, .shutdown:
      []
    case .logLevel:
      [
        AdminParameter(
          "level", .text, positional: true, valueName: "level",
          "trace, debug, info, notice, warning, error or critical (none: show the current one)")
      ]
    case .drain:
      [
        AdminParameter(
          "timeout", .integer, valueName: "seconds", client: .renamed("wait-seconds"),
          "how long to wait for the outbox (default: shutdown.timeout)")
      ]
    case .compensationsList:
      [AdminParameter("all", .flag, "also list compensations already retried or resolved")]
    case .compensationsRetry:
      [
        AdminParameter(
          "payment", .integer, positional: true, required: true, valueName: "paymentId", "the parked payment's id"),
        AdminParameter("by", .text, valueName: "NAME", client: .userName, "who asks (sagactl sends the login name)"),
      ]
    case .compensationsResolve:
      [
        AdminParameter(
          "payment", .integer, positional: true, required: true, valueName: "paymentId", "the parked payment's id"),
        AdminParameter("note", .text, required: true, valueName: "TEXT", "what was done outside sagad"),
        AdminParameter(
          "by", .text, valueName: "NAME", client: .userName, "who resolves (sagactl sends the login name)"),
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
        AdminParameter(
          "traceparent", .text, valueName: "TP",
          "continue the caller's trace: a W3C traceparent 00-<trace id>-<span id>-<flags> (Docs/tracing.md)"),
      ]
    case .payment:
      [AdminParameter("id", .integer, positional: true, required: true, "the payment's id")]
    case .payments:
      [
        AdminParameter("from", .integer, required: true, valueName: "ID", "the first payment id of the range"),
        AdminParameter(
          "to", .integer, valueName: "ID", "the last payment id of the range (default and at most: from + 999)"),
      ]
    case .saga:
      [
        AdminParameter(
          "payment", .integer, positional: true, required: true, valueName: "paymentId", "the payment's id")
      ]
    }
  }

  /// `pay --user U --schedule S [--seat N] --amount A`.
  public var usage: String { ([rawValue] + parameters.map(\.usage)).joined(separator: " ") }

  /// The group a two-word command belongs to (`dlt` for `dlt list`); nil for one word.
  public var family: AdminCommandFamily? {
    let words = words
    return words.count > 1 ? AdminCommandFamily(rawValue: words[0]) : nil
  }

  /// More than the summary, for `sagactl <command> --help`: what the client does with the
  /// reply (exit statuses) and how the parameters go together.
  public var details: String? {
    switch self {
    case .help:
      "Without a command: every command with its level; with one (e.g. `pay` or `user add`): its usage, level "
        + "and parameters."
    case .verify:
      "Exit status 1 when an invariant is violated. With --peer, sagad itself connects to the other sagad's "
        + "socket (its own user needs read level there) and runs the checks across both services."
    case .lag:
      "The status is Burrow-style, judged over the last lag.window samples; NO-OFFSET marks a partition the "
        + "group never committed on."
    case .drain: "Exit status 1 when the outbox did not empty in time; the reply says what is still pending."
    case .dltReplay:
      "Give one dead letter's id, or --all for every pending one matching --topic, --reason and --since. "
        + "Replays keep the original eventId, so the consumers' inbox applies each message at most once however "
        + "often it is replayed; discarded dead letters are never replayed."
    case .failpointSet: "Admin level: `crash` aborts sagad."
    case .outboxDiscard:
      "The row is stored whole in the dead-letter store as a discarded dead letter (`dlt show` reads it) and "
        + "closed; the relay never sends it. A row the relay is publishing at that moment is refused (ask again), "
        + "as are sent and closed rows."
    default: nil
    }
  }

  /// How the parameters go together beyond each one's own kind; sagad checks them
  /// (`AdminRequest.checkRules`), and sagactl before it sends.
  public var rules: [AdminRule] {
    switch self {
    case .dltReplay:
      [
        .exactlyOne(["id", "all"], "give a dead letter's id or --all, not both"),
        .onlyWith(
          ["topic", "reason", "since"], flag: "all", "--topic, --reason and --since go with --all, not with an id"),
      ]
    default: []
    }
  }

  /// Seconds a client should wait for the reply when the command takes longer than a
  /// request usually does: `drain` answers once the outbox is empty or its timeout passed.
  public func replyWait(for request: AdminRequest) -> Int? {
    switch self {
    case .drain: Int(min(request.integer("timeout") ?? 3600, 3600)) + 10
    default: nil
    }
  }

  func parameter(named name: String) -> AdminParameter? { parameters.first { $0.name == name } }
}
