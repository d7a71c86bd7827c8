import Payments
import SagaTestSupport
import Testing

/// The storage seam on the Payments database; the checks are every service's
/// (`ServiceDatabaseChecks`), the tables and migrations are Payments' own.
@Suite("Payments: database")
struct PaymentsDatabaseTests {
  @Test("on disk: WAL, synchronous=FULL on the writer, foreign keys on; the same schema as in memory")
  func onDisk() async throws {
    try await ServiceDatabaseChecks<PaymentsSchema>.onDiskMatchesInMemory(
      fileName: "payments.sqlite", ownTable: "payments")
  }

  @Test("the released migrations keep their identifiers and order, and a migrated database reopens unchanged")
  func migrationIdentifiers() async throws {
    // The migrations databases in the field have run: their identifiers never change.
    try await ServiceDatabaseChecks<PaymentsSchema>.releasedMigrationsKept([
      "payments-v1", "payments-v2-recovery", "payments-v3-null-refund-reason", "payments-v4-peers",
    ])
  }
}
