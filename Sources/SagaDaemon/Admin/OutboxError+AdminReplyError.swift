public import AdminProtocol
public import SagaRuntime

/// `outbox …` refusals on the admin socket, the relay's code leading the text.
extension OutboxError: AdminReplyError {
  public var replyCode: ReplyCode {
    switch code {
    case .notFound: .notFound
    case .notPending, .inFlight: .refused
    case .noDeadLetterStore: .unavailable
    case .invalidRequest: .usage
    }
  }
}
