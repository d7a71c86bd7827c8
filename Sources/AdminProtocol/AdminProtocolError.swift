/// A request the protocol refuses, with the reply code to send (a `9xxx` usage error for
/// anything wrong with the line itself).
public struct AdminProtocolError: AdminReplyError, Sendable, Hashable, CustomStringConvertible {
  public let code: ReplyCode
  public let message: String

  public init(_ code: ReplyCode, _ message: String) {
    self.code = code
    self.message = message
  }

  public var description: String { "\(code) \(message)" }

  public var replyCode: ReplyCode { code }
  /// The message alone: the code is already the line's own.
  public var replyText: String { message }
}
