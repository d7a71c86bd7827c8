public import AdminProtocol
public import SagaCore

/// A saga error on the admin socket: a value the request got wrong is its usage error;
/// anything else failed, for now (`8006`) or for good (`8000`).
extension SagaError: AdminReplyError {
  public var replyCode: ReplyCode {
    code == .invalidValue ? .usage : isRetriable ? .unavailable : .failed
  }
}
