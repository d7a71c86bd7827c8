import AdminProtocol
import ArgumentParser
import Foundation

// Parked compensations and stuck sagas (Docs/operations-recovery.md).

struct CompensationsCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "compensations", abstract: "Parked compensations: list, retry, resolve.",
    subcommands: [CompensationsListCommand.self, CompensationsRetryCommand.self, CompensationsResolveCommand.self])
  @ParentCommand var root: SagaCtl
}

/// Who is asking, as the record and the saga timeline keep it (the audit log has the uid).
private func operatorName() -> String {
  let name = NSUserName()
  return name.isEmpty ? "sagactl" : name
}

struct CompensationsListCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "Parked compensations waiting for an operator.")
  @ParentCommand var compensations: CompensationsCommand
  @OptionGroup var options: GlobalOptions
  @Flag(help: "Also list compensations already retried or resolved.") var all = false
  var root: SagaCtl { compensations.root }
  func request() -> AdminRequest { AdminRequest(.compensationsList, given: ["all": .flag(given: all)]) }
}

struct CompensationsRetryCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "retry", abstract: "Run a parked compensation's refund again, once the cause is fixed.")
  @ParentCommand var compensations: CompensationsCommand
  @OptionGroup var options: GlobalOptions
  @Argument(help: "The parked payment's id.") var paymentId: Int64
  var root: SagaCtl { compensations.root }
  func request() -> AdminRequest {
    AdminRequest(.compensationsRetry, ["payment": .integer(paymentId), "by": .text(operatorName())])
  }
}

struct CompensationsResolveCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "resolve", abstract: "Close a parked compensation handled outside sagad, with a note.")
  @ParentCommand var compensations: CompensationsCommand
  @OptionGroup var options: GlobalOptions
  @Argument(help: "The parked payment's id.") var paymentId: Int64
  @Option(help: ArgumentHelp("What was done outside sagad.", valueName: "text")) var note: String
  var root: SagaCtl { compensations.root }
  func request() -> AdminRequest {
    AdminRequest(
      .compensationsResolve, ["payment": .integer(paymentId), "note": .text(note), "by": .text(operatorName())])
  }
}

struct StuckCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "stuck", abstract: "Sagas the sweeper gave up re-announcing.")
  @ParentCommand var root: SagaCtl
  @OptionGroup var options: GlobalOptions
  @Flag(help: "Also list sagas still being re-announced.") var all = false
  func request() -> AdminRequest { AdminRequest(.stuck, given: ["all": .flag(given: all)]) }
}
