import Foundation
import GRDB
import SagaTestSupport
import Testing

/// Proof that the audit can fail: copies of a clean run's stopped databases, each damaged
/// in one way a bug could damage them, must each give at least one violation. Without
/// this, an audit that never looks would pass every scenario.
enum ReliabilityAuditSelfCheck {
  private static let damages: [(what: String, database: String, sql: String)] = [
    (
      "a reward changed", "points.sqlite",
      "UPDATE point_ledger SET amount = amount + 100 WHERE id = (SELECT MIN(id) FROM point_ledger)"
    ),
    ("a refund lost", "payments.sqlite", "DELETE FROM refunds WHERE id = (SELECT MIN(id) FROM refunds)"),
    ("a payment lost", "payments.sqlite", "DELETE FROM payments WHERE id = (SELECT MAX(id) FROM payments)"),
    (
      "money created", "payments.sqlite",
      "UPDATE wallets SET balance = balance + 1 WHERE user_id = (SELECT MIN(user_id) FROM wallets)"
    ),
    (
      "a saga left open", "payments.sqlite",
      "UPDATE payments SET status = 'PAID' WHERE id = (SELECT MIN(id) FROM payments)"
    ),
    (
      "a stray dead letter", "dlt.sqlite",
      """
      INSERT INTO dead_letters (dlt_topic, dlt_partition, dlt_offset, original_topic, reason, first_seen_at)
      VALUES ('point-reward-completed.DLT', 0, 999999, 'point-reward-completed', 'planted', 0)
      """
    ),
  ]

  /// Runs the audit on a damaged copy of `stateDirectory` (one node with both roles) per
  /// damage; records an issue for each damage the audit misses.
  static func run(stateDirectory: String, acknowledged: [PlannedPayment: Int64]) throws {
    for damage in damages {
      let copy = try TemporaryDirectory()
      for database in ["payments.sqlite", "points.sqlite", "dlt.sqlite"] {
        for file in [database, database + "-wal"]
        where FileManager.default.fileExists(atPath: stateDirectory + "/" + file) {
          try FileManager.default.copyItem(atPath: stateDirectory + "/" + file, toPath: copy.path + "/" + file)
        }
      }
      var configuration = Configuration()
      // Damage as a bug would, past the foreign keys the code relies on.
      configuration.foreignKeysEnabled = false
      let queue = try DatabaseQueue(path: copy.path + "/" + damage.database, configuration: configuration)
      try queue.write { db in
        try db.execute(damage.sql)
        #expect(db.changesCount == 1, "damage '\(damage.what)' changed \(db.changesCount) rows")
      }
      try queue.close()
      let violations = try ReliabilityAudit(
        paymentsDatabase: copy.path + "/payments.sqlite", pointsDatabase: copy.path + "/points.sqlite",
        deadLetterDatabases: [copy.path + "/dlt.sqlite"], acknowledged: acknowledged
      ).run()
      #expect(!violations.isEmpty, "the audit missed \(damage.what)")
    }
  }
}
