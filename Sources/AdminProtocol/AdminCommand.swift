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

  public var description: String { rawValue }

  /// The words that name it on the line (`["user", "add"]`).
  public var words: [String] { rawValue.split(separator: " ").map(String.init) }

  /// The lowest level allowed to run it.
  public var level: PermissionLevel {
    switch self {
    case .help, .version, .status, .workers, .balance, .payment, .saga, .verify: .read
    case .userAdd, .charge, .pay: .operate
    }
  }

  /// Whether it changes state, and so leaves an audit log line (DESIGN.md §6).
  public var isMutating: Bool { level > .read }

  public var summary: String {
    switch self {
    case .help: "list the commands, or describe one"
    case .version: "sagad's version and protocol revision"
    case .status: "roles, workers, relays and the outbox"
    case .workers: "the consume workers and their counters"
    case .userAdd: "create a user with a wallet, enrolled in Points unless --no-points"
    case .charge: "add KRW to a user's wallet"
    case .balance: "a user's wallet (KRW) and reward points"
    case .pay: "pay for a reservation; starts the saga"
    case .payment: "one payment and where its saga stands"
    case .saga: "the saga timeline of a payment"
    case .verify: "check the invariants of the local databases"
    }
  }

  public var parameters: [AdminParameter] {
    switch self {
    case .help:
      [AdminParameter("command", .words, positional: true, "the command to describe")]
    case .version, .status, .workers, .verify:
      []
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
