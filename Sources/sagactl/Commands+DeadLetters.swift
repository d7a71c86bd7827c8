import AdminProtocol
import ArgumentParser

// The dead-letter store (Docs/retries-and-dead-letters.md): list, show, replay, discard.

struct DltCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "dlt", abstract: "Dead letters from the .DLT topics: list, show, replay, discard.",
    subcommands: [DltListCommand.self, DltShowCommand.self, DltReplayCommand.self, DltDiscardCommand.self])
  @ParentCommand var root: SagaCtl
}

/// The filters `dlt list` and `dlt replay --all` share.
struct DeadLetterFilterOptions: ParsableArguments {
  @Option(help: ArgumentHelp("The original topic, or its .DLT topic.", valueName: "T")) var topic: String?
  @Option(help: ArgumentHelp("A reason code (invalid-json) or text in the reason.", valueName: "R")) var reason: String?
  @Option(help: ArgumentHelp("Stored since: RFC 3339, or an age like 30m, 2h, 7d.", valueName: "TIME"))
  var since: String?

  var isEmpty: Bool { topic == nil && reason == nil && since == nil }

  var arguments: [String: AdminRequest.Argument?] {
    ["topic": .text(given: topic), "reason": .text(given: reason), "since": .text(given: since)]
  }
}

struct DltListCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "list", abstract: "Dead letters stored from the .DLT topics, oldest first.")
  @ParentCommand var dlt: DltCommand
  @OptionGroup var options: GlobalOptions
  @OptionGroup var filter: DeadLetterFilterOptions
  @Option(help: ArgumentHelp("pending, replayed, discarded or all (default all).", valueName: "S")) var status: String?
  @Option(help: ArgumentHelp("At most N rows (default 50).", valueName: "N")) var limit: Int64?
  @Option(help: ArgumentHelp("The rows after id ID: the next page.", valueName: "ID")) var after: Int64?
  var root: SagaCtl { dlt.root }

  func request() -> AdminRequest {
    AdminRequest(
      .dltList,
      given: filter.arguments.merging([
        "status": .text(given: status), "limit": .integer(given: limit), "after": .integer(given: after),
      ]) { $1 })
  }
}

struct DltShowCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "show", abstract: "One dead letter: its failure, original coordinates, message and headers.")
  @ParentCommand var dlt: DltCommand
  @OptionGroup var options: GlobalOptions
  @Argument(help: "The dead letter's id.") var id: Int64
  var root: SagaCtl { dlt.root }
  func request() -> AdminRequest { AdminRequest(.dltShow, ["id": .integer(id)]) }
}

struct DltReplayCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "replay",
    abstract: "Publish dead letters to their original topic again; try --dry-run first.",
    discussion: """
      Give one dead letter's id, or --all for every pending one matching --topic, --reason and \
      --since. Replays keep the original eventId, so the consumers' inbox applies each message at \
      most once however often it is replayed; discarded dead letters are never replayed.
      """)
  @ParentCommand var dlt: DltCommand
  @OptionGroup var options: GlobalOptions
  @Argument(help: "The dead letter's id (or --all).") var id: Int64?
  @Flag(help: "Every pending dead letter matching the filters.") var all = false
  @OptionGroup(title: "Filters, with --all") var filter: DeadLetterFilterOptions
  @Flag(help: "Only list what would be replayed; send nothing.") var dryRun = false
  var root: SagaCtl { dlt.root }

  func validate() throws {
    guard (id == nil) == all else { throw ValidationError("give a dead letter's id or --all, not both") }
    guard all || filter.isEmpty else {
      throw ValidationError("--topic, --reason and --since only filter --all; give them with --all")
    }
  }

  func request() -> AdminRequest {
    AdminRequest(
      .dltReplay,
      given: filter.arguments.merging([
        "id": .integer(given: id), "all": .flag(given: all), "dry-run": .flag(given: dryRun),
      ]) { $1 })
  }
}

struct DltDiscardCommand: AdminSubcommand {
  static let configuration = CommandConfiguration(
    commandName: "discard", abstract: "Set a dead letter aside with a note; replay --all skips it.")
  @ParentCommand var dlt: DltCommand
  @OptionGroup var options: GlobalOptions
  @Argument(help: "The dead letter's id.") var id: Int64
  @Option(help: ArgumentHelp("Why it is set aside, for the next operator.", valueName: "text")) var note: String
  var root: SagaCtl { dlt.root }
  func request() -> AdminRequest { AdminRequest(.dltDiscard, ["id": .integer(id), "note": .text(note)]) }
}
