/// Reads one argument list against the catalogue, in two steps: `target()` finds what
/// the words name (the client's options may come first), `request(for:)` reads the
/// command's arguments and the client's options after it.
struct CommandLineParser {
  /// What the command words name.
  enum Target: Sendable, Hashable {
    /// No command: the client's own help.
    case root
    /// The first word of two-word commands only (`dlt`).
    case family(AdminCommandFamily)
    case command(AdminCommand)
    /// A command of the client's own (`load`).
    case client(String)
  }

  let line: AdminCommandLine
  let words: [String]
  /// The next word to read.
  private var index = 0
  /// The client's options given so far, by name (without `json`).
  private(set) var given: [String: String] = [:]
  private var json = false

  init(line: AdminCommandLine, arguments: [String]) {
    self.line = line
    self.words = arguments
  }

  /// The words before `--`: only they can ask for help or the version.
  private var optionWords: ArraySlice<String> { words.prefix { $0 != "--" } }
  var wantsHelp: Bool { optionWords.contains(where: AdminCommandLine.isHelp) }
  var wantsVersion: Bool { optionWords.contains("--version") }

  // MARK: The command words

  mutating func target() throws(CommandLineError) -> Target {
    try readClientOptions(for: .root)
    guard index < words.count else { return .root }
    let first = words[index]
    if line.clientCommands.contains(where: { $0.name == first }) { return .client(first) }
    index += 1
    if let family = AdminCommandFamily(rawValue: first) {
      try readClientOptions(for: .family(family))
      guard index < words.count else { return .family(family) }
      let second = words[index]
      guard let command = family.commands.first(where: { $0.words.last == second }) else {
        throw CommandLineError(.unexpectedArgument, "Unexpected argument '\(second)'", target: .family(family))
      }
      index += 1
      return .command(command)
    }
    guard let command = AdminCommand(rawValue: first), command.family == nil else {
      throw CommandLineError(.unexpectedArgument, "Unexpected argument '\(first)'", target: .root)
    }
    return .command(command)
  }

  /// The client's options up to the next word that is not one.
  private mutating func readClientOptions(for target: Target) throws(CommandLineError) {
    while index < words.count, words[index].hasPrefix("-") {
      let word = words[index]
      index += 1
      if word == "--" || AdminCommandLine.isHelp(word) || word == "--version" { continue }
      guard try readClientOption(word, for: target) else { throw unknownOption(word, target) }
    }
  }

  /// Reads `word` (and its value) if it names one of the client's options.
  private mutating func readClientOption(_ word: String, for target: Target) throws(CommandLineError) -> Bool {
    let (name, inline) = Self.split(word)
    guard let option = line.options.first(where: { $0.name == name }) else { return false }
    guard let valueName = option.valueName else {
      if let inline { throw unwantedValue(name, inline, target) }
      if name == "json" { json = true } else { given[name] = "true" }
      return true
    }
    let label = "--\(name) <\(valueName)>"
    let value: String
    if let inline { value = inline } else { value = try nextValue(label, option.help, target) }
    if option.isInteger, Int(value) == nil {
      throw CommandLineError(
        .invalidValue, "The value '\(value)' is invalid for '\(label)'", target: target, argument: label,
        help: option.help)
    }
    given[name] = value
    return true
  }

  // MARK: The command's arguments

  mutating func request(for command: AdminCommand) throws(CommandLineError) -> (AdminRequest, [String: String]) {
    let target = Target.command(command)
    var request = AdminRequest(command)
    let positionals = command.parameters.filter { $0.positional && $0.clientName != nil }
    var nextPositional = 0
    var optionsEnded = false
    while index < words.count {
      let word = words[index]
      index += 1
      if !optionsEnded {
        if word == "--" {
          optionsEnded = true
          continue
        }
        if AdminCommandLine.isHelp(word) || word == "--version" { continue }
        if word.hasPrefix("--") {
          if try !readClientOption(word, for: target) { try readOption(word, into: &request) }
          continue
        }
        // A lone dash or a negative number is a value; anything else with one dash is not ours.
        if word.hasPrefix("-"), word.count > 1, Int64(word) == nil { throw unknownOption(word, target) }
      }
      guard nextPositional < positionals.count else {
        throw CommandLineError(.unexpectedArgument, "Unexpected argument '\(word)'", target: target)
      }
      let parameter = positionals[nextPositional]
      if parameter.kind == .words {
        request.arguments[parameter.name] = .words(request.words(parameter.name) + [word])
      } else {
        try set(parameter, word, in: &request)
        nextPositional += 1
      }
    }
    for parameter in command.parameters where parameter.required && parameter.clientName != nil {
      guard request.arguments[parameter.name] == nil else { continue }
      let label = Self.label(parameter)
      throw CommandLineError(
        .missingArgument, "Missing expected argument '\(label)'", target: target, argument: label,
        help: CommandLineHelp.sentence(parameter.summary))
    }
    for rule in command.rules {
      if let message = rule.violation(in: request) { throw CommandLineError(.brokenRule, message, target: target) }
    }
    request.json = json
    return (request, given)
  }

  /// `--name`, `--name value` or `--name=value` of one of the command's options.
  private mutating func readOption(_ word: String, into request: inout AdminRequest) throws(CommandLineError) {
    let target = Target.command(request.command)
    let (name, inline) = Self.split(word)
    guard
      let parameter = request.command.parameters.first(where: { !$0.positional && $0.clientName == name })
    else { throw unknownOption(word, target) }
    if parameter.kind == .flag {
      if let inline { throw unwantedValue(name, inline, target) }
      request.arguments[parameter.name] = .flag(true)
      return
    }
    let value: String
    if let inline {
      value = inline
    } else {
      value = try nextValue(Self.label(parameter), CommandLineHelp.sentence(parameter.summary), target)
    }
    try set(parameter, value, in: &request)
  }

  /// Stores a value; given twice, the last one counts, as with swift-argument-parser.
  private func set(_ parameter: AdminParameter, _ value: String, in request: inout AdminRequest)
    throws(CommandLineError)
  {
    switch parameter.kind {
    case .integer:
      guard let number = Int64(value) else {
        let label = Self.label(parameter)
        throw CommandLineError(
          .invalidValue, "The value '\(value)' is invalid for '\(label)'", target: .command(request.command),
          argument: label, help: CommandLineHelp.sentence(parameter.summary))
      }
      request.arguments[parameter.name] = .integer(number)
    case .text:
      request.arguments[parameter.name] = .text(value)
    case .flag:
      request.arguments[parameter.name] = .flag(true)
    case .words:
      request.arguments[parameter.name] = .words([value])
    }
  }

  /// The word after an option as its value; another option there means the value is missing.
  private mutating func nextValue(_ label: String, _ help: String, _ target: Target) throws(CommandLineError)
    -> String
  {
    guard index < words.count, !(words[index].hasPrefix("--") && words[index].count > 2) else {
      throw CommandLineError(
        .missingValue, "Missing value for '\(label)'", target: target, argument: label, help: help)
    }
    index += 1
    return words[index - 1]
  }

  // MARK: Shared

  /// `--name=value` → ("name", "value"); `--name` → ("name", nil).
  private static func split(_ word: String) -> (name: String, inline: String?) {
    let body = word.dropFirst(2)
    guard let equals = body.firstIndex(of: "=") else { return (String(body), nil) }
    return (String(body[..<equals]), String(body[body.index(after: equals)...]))
  }

  /// How help and errors name a parameter: `<id>`, `--user <U>`, `--all`.
  static func label(_ parameter: AdminParameter) -> String {
    let name = parameter.clientName ?? parameter.name
    if parameter.positional { return "<\(parameter.valueName)>" }
    return parameter.kind == .flag ? "--\(name)" : "--\(name) <\(parameter.valueName)>"
  }

  private func unknownOption(_ word: String, _ target: Target) -> CommandLineError {
    let name = word.hasPrefix("--") ? "--" + Self.split(word).name : word
    return CommandLineError(.unknownOption, "Unknown option '\(name)'", target: target)
  }

  private func unwantedValue(_ name: String, _ value: String, _ target: Target) -> CommandLineError {
    CommandLineError(
      .unwantedValue, "The option '--\(name)' does not take any value, but '\(value)' was specified.", target: target)
  }
}
