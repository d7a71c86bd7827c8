/// A parsed request: the command, its arguments by parameter name, and whether the
/// client asked for JSON. `parse` is the server's view of a line; `line` is how a client
/// writes one, and parsing it gives the same request back.
public struct AdminRequest: Sendable, Hashable {
  public enum Argument: Sendable, Hashable {
    case integer(Int64)
    case text(String)
    case flag(Bool)
    case words([String])
  }

  public var command: AdminCommand
  public var arguments: [String: Argument]
  /// `--json` or `json=1`, accepted by every command: the reply carries one `1002` line
  /// with a JSON document instead of tables (Docs/admin-protocol.md).
  public var json: Bool

  public init(_ command: AdminCommand, _ arguments: [String: Argument] = [:], json: Bool = false) {
    self.command = command
    self.arguments = arguments
    self.json = json
  }

  public func integer(_ name: String) -> Int64? {
    if case .integer(let value) = arguments[name] { return value }
    return nil
  }

  public func text(_ name: String) -> String? {
    if case .text(let value) = arguments[name] { return value }
    return nil
  }

  public func flag(_ name: String) -> Bool {
    if case .flag(let value) = arguments[name] { return value }
    return false
  }

  public func words(_ name: String) -> [String] {
    if case .words(let value) = arguments[name] { return value }
    return []
  }

  // MARK: Writing

  /// The request as a line (without newline): positional values first, then
  /// `--name value` options, every value quoted as needed.
  public var line: String {
    var parts = command.words
    var positionalForm = true
    for parameter in command.parameters {
      guard let argument = arguments[parameter.name] else {
        // After a gap, a later positional value could land in the wrong slot.
        if parameter.positional { positionalForm = false }
        continue
      }
      switch argument {
      case .words(let words):
        parts += words.map(RequestLine.quote)
      case .flag(let on):
        if on { parts.append("--\(parameter.name)") }
      case .integer, .text:
        let value = RequestLine.quote(argument.text)
        parts += parameter.positional && positionalForm ? [value] : ["--\(parameter.name)", value]
      }
    }
    if json { parts.append("--json") }
    return parts.joined(separator: " ")
  }

  // MARK: Parsing

  /// Parses a decoded line (see `RequestLine.decode`).
  /// - Throws: `9001` for an unknown command, `9003` for bad quoting, `9000` for anything
  ///   wrong with the arguments; the message ends with the command's usage.
  public static func parse(_ line: String) throws(AdminProtocolError) -> AdminRequest {
    let words = try RequestLine.words(line)
    guard !words.isEmpty else {
      throw AdminProtocolError(.usage, "empty request; `help` lists the commands")
    }
    let command = try lookUp(words)
    var request = AdminRequest(command)
    var rest = words.dropFirst(command.words.count)
    var optionsEnded = false
    while let word = rest.popFirst() {
      if !optionsEnded, word.isOption {
        if word.text == "--" {
          optionsEnded = true
          continue
        }
        let body = word.text.dropFirst(2)
        let name = String(body.prefix { $0 != "=" })
        let inline = body.firstIndex(of: "=").map { String(body[body.index(after: $0)...]) }
        if name == "json" {
          request.json = try flag(inline ?? "true", for: "json", command)
          continue
        }
        guard let parameter = command.parameter(named: name), parameter.kind != .words else {
          throw usage("unknown option --\(name)", command)
        }
        if parameter.kind == .flag {
          try request.set(parameter, inline ?? "true")
        } else if let inline {
          try request.set(parameter, inline)
        } else if let next = rest.popFirst() {
          try request.set(parameter, next.text)
        } else {
          throw usage("--\(name) needs a value", command)
        }
      } else if !optionsEnded, let key = word.key, let value = word.value {
        if key == "json" {
          request.json = try flag(value, for: "json", command)
          continue
        }
        guard let parameter = command.parameter(named: key), parameter.kind != .words else {
          throw usage("unknown argument \(key)=", command)
        }
        try request.set(parameter, value)
      } else {
        guard
          let parameter = command.parameters.first(where: { $0.positional && request.arguments[$0.name] == nil })
        else {
          throw usage("unexpected word '\(word.text)'", command)
        }
        if parameter.kind == .words {
          request.arguments[parameter.name] = .words([word.text] + rest.map(\.text))
          rest.removeAll()
        } else {
          try request.set(parameter, word.text)
        }
      }
    }
    if let missing = command.parameters.first(where: { $0.required && request.arguments[$0.name] == nil }) {
      throw usage("missing \(missing.positional ? "<\(missing.valueName)>" : "--\(missing.name)")", command)
    }
    return request
  }

  /// Checks the command's rules (`AdminCommand.rules`); the handler calls it where it
  /// reads the arguments, so a command for a role this sagad lacks still answers `8004`.
  /// - Throws: `9000` with the first broken rule's message and the usage.
  public func checkRules() throws(AdminProtocolError) {
    for rule in command.rules {
      if let message = rule.violation(in: self) { throw Self.usage(message, command) }
    }
  }

  /// Every command with its words, split once: a profile of `sagactl load` found the
  /// per-request split of every command name at 3 % of sagad's CPU.
  private static let commandWords = AdminCommand.allCases.map { (command: $0, words: $0.words) }

  /// The command named by the longest matching prefix of `words`.
  private static func lookUp(_ words: [RequestWord]) throws(AdminProtocolError) -> AdminCommand {
    let bare = words.prefix { !$0.isOption && $0.key == nil }.map(\.text)
    let matches = commandWords.filter { bare.starts(with: $0.words) }
    if let match = matches.max(by: { $0.words.count < $1.words.count }) { return match.command }
    let name = words[0].text
    let family = commandWords.filter { $0.words.count > 1 && $0.words[0] == name }.map(\.command)
    if !family.isEmpty {
      let attempt = bare.prefix(2).joined(separator: " ")
      throw AdminProtocolError(
        .unknownCommand,
        "unknown command '\(attempt)'; \(name) commands: \(family.map(\.usage).joined(separator: ", "))")
    }
    throw AdminProtocolError(.unknownCommand, "unknown command '\(name.prefix(64))'; `help` lists the commands")
  }

  private mutating func set(_ parameter: AdminParameter, _ value: String) throws(AdminProtocolError) {
    guard arguments[parameter.name] == nil else { throw Self.usage("\(parameter.name) given twice", command) }
    switch parameter.kind {
    case .integer:
      guard let number = Int64(value) else {
        throw Self.usage("\(parameter.name): '\(value.prefix(40))' is not an integer", command)
      }
      arguments[parameter.name] = .integer(number)
    case .text:
      arguments[parameter.name] = .text(value)
    case .flag:
      arguments[parameter.name] = .flag(try Self.flag(value, for: parameter.name, command))
    case .words:
      arguments[parameter.name] = .words([value])
    }
  }

  private static func flag(_ value: String, for name: String, _ command: AdminCommand) throws(AdminProtocolError)
    -> Bool
  {
    switch value.lowercased() {
    case "1", "true", "yes", "on": return true
    case "0", "false", "no", "off": return false
    default: throw usage("\(name): '\(value.prefix(40))' is not true or false", command)
    }
  }

  private static func usage(_ message: String, _ command: AdminCommand) -> AdminProtocolError {
    AdminProtocolError(.usage, "\(message); usage: \(command.usage)")
  }
}

extension AdminRequest.Argument {
  /// The value as written on a line.
  public var text: String {
    switch self {
    case .integer(let value): String(value)
    case .text(let value): value
    case .flag(let value): value ? "true" : "false"
    case .words(let value): value.joined(separator: " ")
    }
  }
}
