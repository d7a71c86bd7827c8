public import AdminProtocol
public import SagaRuntime

/// `dlt …` refusals on the admin socket, the store's code leading the text.
extension DeadLetterError: AdminReplyError {
  public var replyCode: ReplyCode {
    switch code {
    case .notFound: .notFound
    case .discarded: .refused
    case .invalidRequest: .usage
    case .replayUnavailable, .replayNotPersisted: .unavailable
    }
  }
}
