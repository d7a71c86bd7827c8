/// The help and usage-error texts of a command-line client, laid out as
/// swift-argument-parser lays out its own (sagactl's `load` still uses it): OVERVIEW,
/// USAGE, ARGUMENTS, OPTIONS and SUBCOMMANDS, lines under 80 columns.
struct CommandLineHelp {
  typealias Target = CommandLineParser.Target

  let line: AdminCommandLine

  static let width = 79
  /// Where the help of a row starts: two spaces, then 24 for the label.
  static let helpColumn = 26

  // MARK: Help

  func text(for target: Target) -> String {
    var out: [String] = []
    switch target {
    case .root, .client:
      out += Self.wrap("OVERVIEW: " + line.abstract)
      out += Self.paragraphs(line.discussion)
      out += ["", "USAGE: " + usage(for: .root), ""]
      out += section("OPTIONS", clientOptionRows())
      out += section(
        "SUBCOMMANDS",
        subcommands().flatMap { Self.row($0.name, $0.abstract) }
          + line.clientCommands.flatMap { Self.row($0.name, $0.abstract) })
      out.append("  See '\(line.toolName) <subcommand> --help' for detailed help.")
    case .family(let family):
      out += Self.wrap("OVERVIEW: " + Self.sentence(family.summary))
      out += ["", "USAGE: " + usage(for: target), ""]
      out += section("OPTIONS", Self.row("-h, --help", "Show help information."))
      out += section(
        "SUBCOMMANDS", family.commands.flatMap { Self.row($0.words.last ?? $0.rawValue, Self.sentence($0.summary)) })
      out.append("  See '\(line.toolName) \(family.rawValue) <subcommand> --help' for detailed help.")
    case .command(let command):
      let parameters = command.parameters.filter { $0.clientName != nil }
      out += Self.wrap("OVERVIEW: " + Self.sentence(command.summary))
      if let details = command.details { out += Self.paragraphs(details) }
      out += ["", "USAGE: " + usage(for: target), ""]
      let positionals = parameters.filter(\.positional)
      if !positionals.isEmpty {
        out += section("ARGUMENTS", positionals.flatMap(Self.parameterRow))
      }
      out += section("OPTIONS", parameters.filter { !$0.positional }.flatMap(Self.parameterRow) + clientOptionRows())
    }
    return out.joined(separator: "\n")
  }

  /// `sagactl dlt replay [--socket <path>] [--json] [--timeout <seconds>] [<id>] [--all] …`.
  func usage(for target: Target) -> String {
    let clientOptions = line.options.map { option in
      option.valueName.map { "[--\(option.name) <\($0)>]" } ?? "[--\(option.name)]"
    }
    switch target {
    case .root, .client:
      return ([line.toolName] + clientOptions + ["<subcommand>"]).joined(separator: " ")
    case .family(let family):
      return "\(line.toolName) \(family.rawValue) <subcommand>"
    case .command(let command):
      let parameters = command.parameters.filter { $0.clientName != nil }.map(Self.usage)
      return ([line.toolName, command.rawValue] + clientOptions + parameters).joined(separator: " ")
    }
  }

  /// What sagactl prints on stderr before exiting 2.
  func error(_ error: CommandLineError) -> String {
    var out = ["Error: " + error.message]
    if let argument = error.argument, let help = error.help { out.append("Help:  \(argument)  \(help)") }
    out.append("Usage: " + usage(for: error.target))
    out.append("  See '\(([line.toolName] + path(error.target)).joined(separator: " ")) --help' for more information.")
    return out.joined(separator: "\n")
  }

  // MARK: Pieces

  private func path(_ target: Target) -> [String] {
    switch target {
    case .root: []
    case .family(let family): [family.rawValue]
    case .command(let command): command.words
    case .client(let name): [name]
    }
  }

  /// The root's subcommands: one-word commands and families, in catalogue order.
  private func subcommands() -> [(name: String, abstract: String)] {
    var seen: Set<String> = []
    var entries: [(name: String, abstract: String)] = []
    for command in AdminCommand.allCases {
      let name = command.words[0]
      guard seen.insert(name).inserted else { continue }
      entries.append((name, Self.sentence(command.family?.summary ?? command.summary)))
    }
    return entries
  }

  private func clientOptionRows() -> [String] {
    var rows: [String] = []
    for option in line.options {
      rows += Self.row(option.valueName.map { "--\(option.name) <\($0)>" } ?? "--\(option.name)", option.help)
      if let discussion = option.discussion {
        rows += Self.wrap(discussion, width: Self.width - 8).map { String(repeating: " ", count: 8) + $0 }
      }
    }
    return rows + Self.row("--version", "Show the version.") + Self.row("-h, --help", "Show help information.")
  }

  private func section(_ title: String, _ rows: [String]) -> [String] {
    ["\(title):"] + rows + [""]
  }

  private static func parameterRow(_ parameter: AdminParameter) -> [String] {
    row(CommandLineParser.label(parameter), sentence(parameter.summary))
  }

  private static func usage(_ parameter: AdminParameter) -> String {
    let label = CommandLineParser.label(parameter)
    if parameter.kind == .words { return "[\(label) ...]" }
    return parameter.required ? label : "[\(label)]"
  }

  /// `  label                   help`, the help wrapped in its column; a label too wide
  /// for the column puts the help on the next line.
  static func row(_ label: String, _ help: String) -> [String] {
    let indent = String(repeating: " ", count: helpColumn)
    var lines = wrap(help, width: width - helpColumn).map { indent + $0 }
    let head = "  " + label
    if head.count + 2 <= helpColumn, !lines.isEmpty {
      lines[0] = head + String(repeating: " ", count: helpColumn - head.count) + lines[0].dropFirst(helpColumn)
    } else {
      lines.insert(head, at: 0)
    }
    return lines
  }

  /// Paragraphs (separated by a blank line) wrapped, each after a blank line.
  private static func paragraphs(_ text: String) -> [String] {
    text.split(separator: "\n\n").flatMap { [""] + wrap(String($0).replacing("\n", with: " ")) }
  }

  /// Greedy word wrap; a word longer than the width gets a line of its own.
  static func wrap(_ text: String, width: Int = width) -> [String] {
    var lines: [String] = []
    var current = ""
    for word in text.split(separator: " ") {
      if current.isEmpty {
        current = String(word)
      } else if current.count + 1 + word.count <= width {
        current += " " + word
      } else {
        lines.append(current)
        current = String(word)
      }
    }
    if !current.isEmpty { lines.append(current) }
    return lines
  }

  /// A catalogue text as a help sentence: `the user's id` → `The user's id.`. A first word
  /// that is a literal (`points.reward,`, `error(transient)`, `sagad's`) keeps its case.
  static func sentence(_ text: String) -> String {
    var text = text
    let firstWord = text.prefix { $0 != " " }
    let literal = firstWord.contains { "._()".contains($0) } || firstWord.hasPrefix("sagad")
    if !literal, let first = text.first, first.isLowercase { text = first.uppercased() + text.dropFirst() }
    return text.hasSuffix(".") ? text : text + "."
  }
}
