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

  /// How a command-line client (`sagactl`) offers the parameter.
  public enum ClientForm: Sendable, Hashable {
    /// Under the parameter's own name.
    case same
    /// Under another option name, where the protocol's would clash with one of the
    /// client's own (`drain --timeout` against sagactl's reply `--timeout`).
    case renamed(String)
    /// Not offered: the client sends the login name of whoever runs it.
    case userName
  }

  public let name: String
  public let kind: Kind
  public let positional: Bool
  public let required: Bool
  /// The placeholder in the usage line (`N`, `id`).
  public let valueName: String
  public let summary: String
  public let clientForm: ClientForm

  init(
    _ name: String, _ kind: Kind, positional: Bool = false, required: Bool = false, valueName: String = "",
    client clientForm: ClientForm = .same, _ summary: String
  ) {
    self.name = name
    self.kind = kind
    self.positional = positional
    self.required = required
    self.valueName = valueName.isEmpty ? name : valueName
    self.clientForm = clientForm
    self.summary = summary
  }

  /// The option name a command-line client uses; nil when it fills the value in itself.
  public var clientName: String? {
    switch clientForm {
    case .same: name
    case .renamed(let other): other
    case .userName: nil
    }
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
