import AdminProtocol
import Payments
import SagaCore
import SagaRuntime
import Testing

@testable import SagaDaemon

/// Every error a command handler throws carries its own reply code (`AdminReplyError`);
/// the server only writes what the error says.
@Suite("Admin: errors carry their reply code", .timeLimit(.minutes(1)))
struct AdminReplyErrorTests {
  private struct Unknown: Error, CustomStringConvertible {
    var description: String { "something odd" }
  }

  @Test("Payments' refusals: the service's code leads the text, storage trouble is 8006 only when retriable")
  func payments() {
    let expected: [(PaymentsError, ReplyCode)] = [
      (PaymentsError(.insufficientBalance, "wallet 10 < 20"), .refused),
      (PaymentsError(.userNotFound, "user 9"), .notFound),
      (PaymentsError(.compensationNotFound, "payment 9"), .notFound),
      (PaymentsError(.invalidAmount, "0"), .usage),
      (PaymentsError(.invalidArgument, "empty note"), .usage),
      (PaymentsError(.storage, "busy", isRetriable: true), .unavailable),
      (PaymentsError(.storage, "disk I/O", isRetriable: false), .failed),
      (PaymentsError(.internalError, "bug"), .failed),
    ]
    for (error, code) in expected {
      #expect(AdminCommands.reply(for: error) == .final(code, error.description), "\(error)")
    }
    #expect(AdminCommands.reply(for: PaymentsError(.seatTaken, "A-1")).text == "seat-taken: A-1")
  }

  @Test("saga errors: a bad value is a usage error, a transient one 8006, the rest 8000")
  func saga() {
    #expect(AdminCommands.reply(for: SagaError(.invalidValue, "x")).code == .usage)
    #expect(AdminCommands.reply(for: SagaError(.databaseBusy, "locked")).code == .unavailable)
    #expect(AdminCommands.reply(for: SagaError(.internalError, "bug")) == .final(.failed, "internal: bug"))
  }

  @Test("dead-letter errors keep their code in the text")
  func deadLetters() {
    let expected: [(DeadLetterError.Code, ReplyCode)] = [
      (.notFound, .notFound), (.discarded, .refused), (.invalidRequest, .usage),
      (.replayUnavailable, .unavailable), (.replayNotPersisted, .unavailable),
    ]
    for (code, reply) in expected {
      let error = DeadLetterError(code, "letter 4")
      #expect(AdminCommands.reply(for: error) == .final(reply, "\(code.rawValue): letter 4"))
    }
  }

  @Test("outbox errors keep their code in the text; only a row in flight is worth asking again")
  func outbox() {
    let expected: [(OutboxError.Code, ReplyCode)] = [
      (.notFound, .notFound), (.notPending, .refused), (.inFlight, .refused), (.noDeadLetterStore, .unavailable),
      (.invalidRequest, .usage),
    ]
    for (code, reply) in expected {
      let error = OutboxError(code, "row 4")
      #expect(AdminCommands.reply(for: error) == .final(reply, "\(code.rawValue): row 4"))
      #expect(error.isRetriable == (code == .inFlight))
    }
  }

  @Test("protocol errors answer with their message alone; an unknown error is 8000 with its description")
  func protocolAndUnknown() {
    let error = AdminProtocolError(.unknownCommand, "unknown command 'x'")
    #expect(AdminCommands.reply(for: error) == .final(.unknownCommand, "unknown command 'x'"))
    #expect(error.reply == AdminCommands.reply(for: error))
    #expect(AdminCommands.reply(for: Unknown()) == .final(.failed, "something odd"))
  }
}
