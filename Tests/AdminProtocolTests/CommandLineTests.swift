import AdminProtocol
import Testing

/// sagactl's command line as the catalogue makes it (`AdminCommandLine`): every command
/// reachable with its arguments and help, the client's options anywhere, usage errors
/// with the usage.
@Suite("Admin protocol: the catalogue as a command line", .timeLimit(.minutes(1)))
struct CommandLineTests {
  private let line = AdminCommandLine(
    toolName: "sagactl", abstract: "Inspect and operate sagad.", discussion: "One request per call.",
    version: "1.2.3",
    options: [
      AdminCommandLine.Option("socket", valueName: "path", help: "The socket.", discussion: "Default: somewhere."),
      AdminCommandLine.Option("json", help: "One JSON document."),
      AdminCommandLine.Option("timeout", valueName: "seconds", isInteger: true, help: "Seconds to wait."),
    ],
    clientCommands: [AdminCommandLine.ClientCommand("load", abstract: "Drive payments through sagad.")])

  private func request(_ words: String...) -> (request: AdminRequest, options: [String: String])? {
    guard case .request(let request, let options) = line.interpret(words) else { return nil }
    return (request, options)
  }

  private func output(_ words: String...) -> String? { output(words) }

  private func output(_ words: [String]) -> String? {
    guard case .output(let text) = line.interpret(words) else { return nil }
    return text
  }

  private func usageError(_ words: String...) -> String? {
    guard case .usageError(let text) = line.interpret(words) else { return nil }
    return text
  }

  /// The words of a minimal valid call: the command's words, then its required values
  /// (and the first of parameters a rule wants exactly one of).
  private func minimalCall(_ command: AdminCommand) -> [String] {
    var words = command.words
    let chosen = command.rules.compactMap { rule -> String? in
      guard case .exactlyOne(let names, _) = rule else { return nil }
      return names.first
    }
    for parameter in command.parameters
    where (parameter.required || chosen.contains(parameter.name)) && parameter.clientName != nil {
      let value = parameter.kind == .integer ? "7" : "x"
      let option = "--\(parameter.clientName!)"
      words += parameter.positional ? [value] : parameter.kind == .flag ? [option] : [option, value]
    }
    return words
  }

  @Test("every catalogue command is a subcommand: it parses, has help, and the root help lists it")
  func everyCommand() throws {
    let root = try #require(output("--help"))
    for command in AdminCommand.allCases {
      let outcome = line.interpret(minimalCall(command))
      guard case .request(let request, _) = outcome else {
        Issue.record("\(command): \(outcome)")
        continue
      }
      #expect(request.command == command)
      #expect(try AdminRequest.parse(request.line) == request, "\(request.line)")
      let help = try #require(output(command.words + ["--help"]), "\(command)")
      #expect(help.contains("USAGE: sagactl \(command.rawValue) [--socket <path>] [--json] [--timeout <seconds>]"))
      for parameter in command.parameters {
        if let name = parameter.clientName {
          #expect(help.contains(parameter.positional ? "<\(parameter.valueName)>" : "--\(name)"), "\(command) \(name)")
        } else {
          #expect(!help.contains("--\(parameter.name)"), "\(command) shows \(parameter.name)")
        }
      }
      #expect(root.contains("\n  \(command.words[0]) "), "\(command)")
    }
    #expect(root.contains("\n  load                    Drive payments through sagad."))
    #expect(root.hasPrefix("OVERVIEW: Inspect and operate sagad.\n\nOne request per call.\n\nUSAGE: sagactl "))
  }

  @Test("every two-word command belongs to a family whose help lists it")
  func families() throws {
    for command in AdminCommand.allCases where command.words.count > 1 {
      let family = try #require(command.family, "\(command) has no family")
      let help = try #require(output(family.rawValue))
      #expect(help.contains("USAGE: sagactl \(family.rawValue) <subcommand>"))
      #expect(help.contains("\n  \(command.words[1]) "), "\(command)")
    }
    #expect(output("dlt", "--help") == output("dlt"))
  }

  @Test("help is sagad's texts as sentences, wrapped under 80 columns")
  func helpText() throws {
    let pay = try #require(output("pay", "--help"))
    #expect(pay.hasPrefix("OVERVIEW: Pay for a reservation; starts the saga.\n"))
    #expect(pay.contains("\n  --user <U>              The paying user's id.\n"))
    #expect(pay.contains("--seat <N>] --amount <A>"))
    let replay = try #require(output("dlt", "replay", "-h"))
    #expect(replay.contains("\n\nGive one dead letter's id, or --all"))
    #expect(replay.contains("\nARGUMENTS:\n  <id>                    The dead letter's id (or --all).\n"))
    #expect(output("version", "--help")?.hasPrefix("OVERVIEW: sagad's version and protocol revision.") == true)
    for command in AdminCommand.allCases {
      let help = try #require(output(command.words + ["--help"]))
      for text in help.split(separator: "\n") where !text.hasPrefix("USAGE: ") {
        #expect(text.count < 80, "\(command): \(text)")
      }
    }
  }

  @Test("options as --name value, --name=value, flags; the client's options before or after the command")
  func options() throws {
    let paid = try #require(
      request("--socket", "/s", "pay", "--user", "1", "--schedule=2", "--seat", "A 1", "--amount", "3", "--json"))
    #expect(
      paid.request
        == AdminRequest(
          .pay, ["user": .integer(1), "schedule": .integer(2), "seat": .text("A 1"), "amount": .integer(3)],
          json: true))
    #expect(paid.options == ["socket": "/s"])
    let added = try #require(request("user", "add", "5", "--no-points", "--timeout", "9"))
    #expect(added.request == AdminRequest(.userAdd, ["id": .integer(5), "no-points": .flag(true)]))
    #expect(added.options == ["timeout": "9"])
    #expect(request("help", "user", "add")?.request == AdminRequest(.help, ["command": .words(["user", "add"])]))
    #expect(
      request("charge", "1", "-5")?.request == AdminRequest(.charge, ["user": .integer(1), "amount": .integer(-5)]))
    // `--` ends the options: a value may then look like one.
    #expect(request("log-level", "--", "--odd")?.request == AdminRequest(.logLevel, ["level": .text("--odd")]))
    // Given twice, the last one counts.
    #expect(request("balance", "1", "--socket", "/a", "--socket=/b")?.options == ["socket": "/b"])
  }

  @Test("a renamed option, and one the client fills in, are not sagad's names")
  func clientForms() throws {
    let drain = try #require(request("drain", "--wait-seconds", "5", "--timeout", "2"))
    #expect(drain.request == AdminRequest(.drain, ["timeout": .integer(5)]))
    #expect(drain.options == ["timeout": "2"])
    #expect(AdminCommand.drain.replyWait(for: drain.request) == 15)
    #expect(AdminCommand.drain.replyWait(for: AdminRequest(.drain)) == 3610)
    #expect(AdminCommand.status.replyWait(for: AdminRequest(.status)) == nil)
    #expect(
      request("compensations", "retry", "4")?.request == AdminRequest(.compensationsRetry, ["payment": .integer(4)]))
    #expect(usageError("compensations", "retry", "4", "--by", "x")?.hasPrefix("Error: Unknown option '--by'\n") == true)
  }

  @Test("usage errors name the fault and show the usage of what was understood")
  func usageErrors() throws {
    #expect(
      usageError("frobnicate")
        == "Error: Unexpected argument 'frobnicate'\n"
        + "Usage: sagactl [--socket <path>] [--json] [--timeout <seconds>] <subcommand>\n"
        + "  See 'sagactl --help' for more information.")
    #expect(
      usageError("pay", "--user", "1")
        == "Error: Missing expected argument '--schedule <S>'\n"
        + "Help:  --schedule <S>  The concert schedule's id.\n"
        + "Usage: sagactl pay [--socket <path>] [--json] [--timeout <seconds>] --user <U> --schedule <S> "
        + "[--seat <N>] --amount <A> [--traceparent <TP>]\n"
        + "  See 'sagactl pay --help' for more information.")
    #expect(usageError("balance", "abc")?.hasPrefix("Error: The value 'abc' is invalid for '<user>'\n") == true)
    #expect(usageError("balance", "1", "2")?.hasPrefix("Error: Unexpected argument '2'\n") == true)
    #expect(usageError("balance")?.hasPrefix("Error: Missing expected argument '<user>'\n") == true)
    #expect(
      usageError("user", "add", "1", "--balance")?.hasPrefix("Error: Missing value for '--balance <N>'\n") == true)
    #expect(usageError("status", "--frob")?.hasPrefix("Error: Unknown option '--frob'\n") == true)
    #expect(usageError("status", "-x")?.hasPrefix("Error: Unknown option '-x'\n") == true)
    #expect(usageError("--timeout", "soon", "status")?.contains("'--timeout <seconds>'") == true)
    #expect(
      usageError("dlt", "replay", "1", "--dry-run=true")?.hasPrefix(
        "Error: The option '--dry-run' does not take any value, but 'true' was specified.\n") == true)
    let family = try #require(usageError("dlt", "frob"))
    #expect(family.hasPrefix("Error: Unexpected argument 'frob'\nUsage: sagactl dlt <subcommand>\n"))
  }

  @Test("the catalogue's rules are checked before sending, with sagad's messages")
  func rules() throws {
    #expect(
      usageError("dlt", "replay", "--dry-run")?.hasPrefix("Error: give a dead letter's id or --all, not both\n") == true
    )
    #expect(
      usageError("dlt", "replay", "1", "--all")?.hasPrefix("Error: give a dead letter's id or --all, not both\n")
        == true)
    #expect(
      usageError("dlt", "replay", "1", "--topic", "t")?.hasPrefix(
        "Error: --topic, --reason and --since go with --all, not with an id\n") == true)
    #expect(request("dlt", "replay", "--all", "--topic", "t") != nil)
    // sagad checks the same rules where the handler reads the arguments.
    #expect(throws: AdminProtocolError.self) { try AdminRequest.parse("dlt replay 1 --all").checkRules() }
    #expect(throws: Never.self) { try AdminRequest.parse("dlt replay --all --topic t").checkRules() }
  }

  @Test("no command, or a family alone, is help; --version; the client's own commands are handed back")
  func rootAndClientCommands() throws {
    #expect(output() == output("--help"))
    #expect(output("--json") == output("--help"))
    #expect(output("--version") == "1.2.3")
    #expect(output("status", "--version") == "1.2.3")
    #expect(output("balance", "abc", "--help")?.hasPrefix("OVERVIEW: A user's wallet (KRW) and reward points.") == true)
    #expect(output("frob", "--help") == output("--help"))
    #expect(line.interpret(["--json", "load", "--payments", "5"]) == .clientCommand("load"))
    #expect(line.interpret(["load", "--help"]) == .clientCommand("load"))
  }
}
