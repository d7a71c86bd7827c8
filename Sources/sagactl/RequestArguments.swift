import AdminProtocol

extension AdminRequest {
  /// A request from a command's options as given: an option left out (nil) is not sent.
  init(_ command: AdminCommand, given arguments: [String: Argument?]) {
    var present: [String: Argument] = [:]
    for (name, value) in arguments {
      if let value { present[name] = value }
    }
    self.init(command, present)
  }
}

extension Optional where Wrapped == AdminRequest.Argument {
  static func text(given value: String?) -> Self { value.map { .text($0) } }
  static func integer(given value: Int64?) -> Self { value.map { .integer($0) } }
  /// A flag is sent only when set.
  static func flag(given on: Bool) -> Self { on ? .flag(true) : nil }
}
