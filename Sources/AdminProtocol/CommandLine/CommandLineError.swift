/// Why an argument list does not make a request; the client prints it with the usage of
/// `target` and exits 2.
struct CommandLineError: Error, Sendable, Hashable {
  enum Code: Sendable, Hashable {
    case unknownOption
    case unexpectedArgument
    case missingValue
    case invalidValue
    case missingArgument
    /// A value given to a flag (`--all=yes`).
    case unwantedValue
    /// A rule of the catalogue (`AdminCommand.rules`).
    case brokenRule
  }

  let code: Code
  let message: String
  /// How far the words were understood: the usage shown is this one's.
  let target: CommandLineParser.Target
  /// The argument at fault (`--user <U>`) and its help, when there is one.
  let argument: String?
  let help: String?

  init(
    _ code: Code, _ message: String, target: CommandLineParser.Target, argument: String? = nil, help: String? = nil
  ) {
    self.code = code
    self.message = message
    self.target = target
    self.argument = argument
    self.help = help
  }
}
