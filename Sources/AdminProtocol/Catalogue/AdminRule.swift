/// A constraint between a command's parameters that their kinds alone do not say
/// (`dlt replay`: an id or `--all`). A flag given as false counts as not given.
public enum AdminRule: Sendable, Hashable {
  /// Exactly one of these parameters.
  case exactlyOne([String], String)
  /// These parameters only together with the flag.
  case onlyWith([String], flag: String, String)

  /// The rule's message when `request` breaks it; nil when it keeps it.
  public func violation(in request: AdminRequest) -> String? {
    switch self {
    case .exactlyOne(let names, let message):
      names.filter(request.has).count == 1 ? nil : message
    case .onlyWith(let names, let flag, let message):
      request.flag(flag) || !names.contains(where: request.has) ? nil : message
    }
  }
}

extension AdminRequest {
  /// Whether the argument was given: a flag only when it is on.
  func has(_ name: String) -> Bool {
    switch arguments[name] {
    case nil, .flag(false): false
    default: true
    }
  }
}
