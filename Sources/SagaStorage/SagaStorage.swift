/// GRDB databases, migrations, outbox, inbox, retry schedule and dead-letter store
/// arrive with the saga issue; the target exists now so the module lines are fixed.
public enum SagaStorage {}
