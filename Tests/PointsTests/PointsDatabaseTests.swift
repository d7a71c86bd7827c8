import Points
import SagaTestSupport
import Testing

/// The storage seam on the Points database; the checks are every service's
/// (`ServiceDatabaseChecks`), the tables and migrations are Points' own.
@Suite("Points: database")
struct PointsDatabaseTests {
  @Test("on disk: WAL, synchronous=FULL on the writer, foreign keys on; the same schema as in memory")
  func onDisk() async throws {
    try await ServiceDatabaseChecks<PointsSchema>.onDiskMatchesInMemory(
      fileName: "points.sqlite", ownTable: "point_ledger")
  }

  @Test("the released migrations keep their identifiers and order, and a migrated database reopens unchanged")
  func migrationIdentifiers() async throws {
    // The migrations databases in the field have run: their identifiers never change.
    try await ServiceDatabaseChecks<PointsSchema>.releasedMigrationsKept([
      "points-v1-accounts-ledger-failures", "points-v2-saga-steps",
    ])
  }
}
