/// Consume loop, batch transactions, outbox relay, supervisor and sweeper arrive with
/// the saga and recoverability issues.
public enum SagaRuntime {}
