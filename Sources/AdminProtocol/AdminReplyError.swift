/// An error that knows how sagad answers it: the reply code of the final line and its
/// text. A command handler throws it and the server writes `reply`; an error type that
/// does not adopt this is answered `8000` with its description.
public protocol AdminReplyError: Error {
  var replyCode: ReplyCode { get }
  /// The final line's text; by default the error's description.
  var replyText: String { get }
}

extension AdminReplyError where Self: CustomStringConvertible {
  public var replyText: String { description }
}

extension AdminReplyError {
  /// The one-line reply that reports this error.
  public var reply: AdminReply { AdminReply.final(replyCode, replyText) }
}
