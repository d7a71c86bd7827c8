import AdminProtocol
import ArgumentParser

// One type per admin command, named as in the protocol. Each only turns its arguments
// into an `AdminRequest`; sagad validates values and answers, so the rules live in one place.

struct HelpCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "help", abstract: "List sagad's commands with their levels, or describe one.")
  @ParentCommand var root: SagaCtl
  @OptionGroup var options: GlobalOptions
  @Argument(help: "A command, e.g. `pay` or `user add`.") var command: [String] = []
  func request() -> AdminRequest { AdminRequest(.help, command.isEmpty ? [:] : ["command": .words(command)]) }
}

struct VersionCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "version", abstract: "sagad's version and protocol revision.")
  @ParentCommand var root: SagaCtl
  @OptionGroup var options: GlobalOptions
  func request() -> AdminRequest { AdminRequest(.version) }
}

struct StatusCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "status", abstract: "Roles, workers, relays and the outbox.")
  @ParentCommand var root: SagaCtl
  @OptionGroup var options: GlobalOptions
  func request() -> AdminRequest { AdminRequest(.status) }
}

struct WorkersCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "workers", abstract: "Every supervised task's state, restarts and last error; worker counters.")
  @ParentCommand var root: SagaCtl
  @OptionGroup var options: GlobalOptions
  func request() -> AdminRequest { AdminRequest(.workers) }
}

struct UserCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "user", abstract: "Manage users.", subcommands: [UserAddCommand.self])
  @ParentCommand var root: SagaCtl
}

struct UserAddCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "add", abstract: "Create a user with a wallet, enrolled in Points unless --no-points.")
  @ParentCommand var user: UserCommand
  @OptionGroup var options: GlobalOptions
  @Argument(help: "The new user's id (> 0).") var id: Int64
  @Option(help: ArgumentHelp("Initial wallet balance in KRW.", valueName: "N")) var balance: Int64?
  @Flag(help: "Do not enroll the user in Points.") var noPoints = false
  var root: SagaCtl { user.root }

  func request() -> AdminRequest {
    AdminRequest(
      .userAdd, given: ["id": .integer(id), "balance": .integer(given: balance), "no-points": .flag(given: noPoints)])
  }
}

struct ChargeCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(commandName: "charge", abstract: "Add KRW to a user's wallet.")
  @ParentCommand var root: SagaCtl
  @OptionGroup var options: GlobalOptions
  @Argument(help: "The user's id.") var user: Int64
  @Argument(help: "KRW to add (> 0).") var amount: Int64
  func request() -> AdminRequest { AdminRequest(.charge, ["user": .integer(user), "amount": .integer(amount)]) }
}

struct BalanceCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "balance", abstract: "A user's wallet (KRW) and reward points.")
  @ParentCommand var root: SagaCtl
  @OptionGroup var options: GlobalOptions
  @Argument(help: "The user's id.") var user: Int64
  func request() -> AdminRequest { AdminRequest(.balance, ["user": .integer(user)]) }
}

struct PayCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "pay", abstract: "Pay for a reservation; starts the saga.")
  @ParentCommand var root: SagaCtl
  @OptionGroup var options: GlobalOptions
  @Option(help: ArgumentHelp("The paying user's id.", valueName: "U")) var user: Int64
  @Option(help: ArgumentHelp("The concert schedule's id.", valueName: "S")) var schedule: Int64
  @Option(help: ArgumentHelp("The seat label, e.g. A-12.", valueName: "N")) var seat: String?
  @Option(help: ArgumentHelp("KRW to pay (> 0).", valueName: "A")) var amount: Int64

  func request() -> AdminRequest {
    AdminRequest(
      .pay,
      given: [
        "user": .integer(user), "schedule": .integer(schedule), "amount": .integer(amount),
        "seat": .text(given: seat),
      ])
  }
}

struct PaymentCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "payment", abstract: "One payment and where its saga stands.")
  @ParentCommand var root: SagaCtl
  @OptionGroup var options: GlobalOptions
  @Argument(help: "The payment's id.") var id: Int64
  func request() -> AdminRequest { AdminRequest(.payment, ["id": .integer(id)]) }
}

struct SagaCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(commandName: "saga", abstract: "The saga timeline of a payment.")
  @ParentCommand var root: SagaCtl
  @OptionGroup var options: GlobalOptions
  @Argument(help: "The payment's id.") var paymentId: Int64
  func request() -> AdminRequest { AdminRequest(.saga, ["payment": .integer(paymentId)]) }
}

struct VerifyCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "verify", abstract: "Check the invariants of sagad's databases; exit 1 on a violation.")
  @ParentCommand var root: SagaCtl
  @OptionGroup var options: GlobalOptions
  func request() -> AdminRequest { AdminRequest(.verify) }
}
