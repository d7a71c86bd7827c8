/// The catalogue as a command-line client sees it: `sagactl`'s subcommands with their
/// arguments, options and help, all derived from `AdminCommand`, so a command added to the
/// catalogue is there without a line of client code. It reads an argument list the way
/// swift-argument-parser does (`--name value`, `--name=value`, positionals in order,
/// options before or after the command, `--` ending them, `-h`/`--help` anywhere) and
/// answers with a request to send, text to print, or a usage error.
public struct AdminCommandLine: Sendable {
  /// An option of the client itself, taken before or after the command (`--socket`). One
  /// named `json` sets `AdminRequest.json`: every command takes it.
  public struct Option: Sendable, Hashable {
    public var name: String
    /// The placeholder of its value; nil for a flag.
    public var valueName: String?
    public var isInteger: Bool
    public var help: String
    /// Shown under the option in the help.
    public var discussion: String?

    public init(
      _ name: String, valueName: String? = nil, isInteger: Bool = false, help: String, discussion: String? = nil
    ) {
      self.name = name
      self.valueName = valueName
      self.isInteger = isInteger
      self.help = help
      self.discussion = discussion
    }
  }

  /// A subcommand the client implements itself (`sagactl load`): listed in the help, and
  /// handed back to the client to parse.
  public struct ClientCommand: Sendable, Hashable {
    public var name: String
    public var abstract: String

    public init(_ name: String, abstract: String) {
      self.name = name
      self.abstract = abstract
    }
  }

  public enum Outcome: Sendable, Hashable {
    /// Send the request. `options` holds the client's own options that were given, by name
    /// (`--json` is in the request).
    case request(AdminRequest, options: [String: String])
    /// Print this on stdout and exit 0: help or the version.
    case output(String)
    /// Print this on stderr and exit 2: the arguments do not make a request.
    case usageError(String)
    /// One of the client's own commands: the client parses the arguments itself.
    case clientCommand(String)
  }

  public var toolName: String
  public var abstract: String
  public var discussion: String
  public var version: String
  public var options: [Option]
  public var clientCommands: [ClientCommand]

  public init(
    toolName: String, abstract: String, discussion: String, version: String, options: [Option],
    clientCommands: [ClientCommand]
  ) {
    self.toolName = toolName
    self.abstract = abstract
    self.discussion = discussion
    self.version = version
    self.options = options
    self.clientCommands = clientCommands
  }

  /// What the arguments (without the program name) ask for.
  public func interpret(_ arguments: [String]) -> Outcome {
    var parser = CommandLineParser(line: self, arguments: arguments)
    let target: CommandLineParser.Target
    do {
      target = try parser.target()
    } catch {
      // Help for what was understood, as swift-argument-parser gives it.
      return parser.wantsHelp ? .output(help.text(for: error.target)) : .usageError(help.error(error))
    }
    // The client's own commands have their own help.
    if case .client(let name) = target { return .clientCommand(name) }
    if parser.wantsHelp { return .output(help.text(for: target)) }
    if parser.wantsVersion { return .output(version) }
    switch target {
    case .root, .family, .client:
      return .output(help.text(for: target))
    case .command(let command):
      do {
        let (request, given) = try parser.request(for: command)
        return .request(request, options: given)
      } catch {
        return .usageError(help.error(error))
      }
    }
  }

  var help: CommandLineHelp { CommandLineHelp(line: self) }

  static func isHelp(_ word: String) -> Bool { word == "-h" || word == "--help" }
}
