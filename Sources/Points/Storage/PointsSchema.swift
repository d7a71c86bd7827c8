public import GRDB
public import SagaStorage

/// The Points service's own tables, as the GRDB migrations `PointsDatabase.migrator`
/// registers after the storage tables (outbox, inbox, retry schedule, dead-letter marks).
///
/// Times are integer milliseconds since the epoch, like every storage table.
public enum PointsSchema: ServiceSchema {
  /// Points' half of the saga timeline (`sagactl saga`), purged after `timeline.retention`.
  public static let timelineTable = "point_saga_steps"

  public static let postgresSchema = "points"

  /// Registers the Points migrations. Identifiers start with `points-` so they never collide
  /// with the storage migrations or with Payments' (the two services may share a file in tests).
  public static func register(in migrator: inout DatabaseMigrator) {
    migrator.registerMigration("points-v1-accounts-ledger-failures") { db in
      // user_id is the rowid (INTEGER PRIMARY KEY): enrolment checks and balance updates
      // are one B-tree probe on the hot path. The CHECK is the last line of defence against
      // a bug that would make a balance negative (SQLite turns an Int64 overflow into a
      // REAL, so the handler also refuses to overflow before it updates).
      try db.execute(
        sql: """
          CREATE TABLE point_accounts (
            user_id INTEGER PRIMARY KEY,
            balance INTEGER NOT NULL DEFAULT 0 CHECK (balance >= 0),
            enrolled_at INTEGER NOT NULL
          );
          """)
      // One row per credited reward; its id is the `pointId` of `PointRewardCompleted`.
      // AUTOINCREMENT so a pointId announced once never names another reward later.
      // UNIQUE (user_id, payment_id) is the report's missing idempotency key (§7.3, §9.1):
      // a redelivered or re-announced ReservationCompleted can never credit twice.
      try db.execute(
        sql: """
          CREATE TABLE point_ledger (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER NOT NULL REFERENCES point_accounts(user_id),
            payment_id INTEGER NOT NULL,
            reservation_id INTEGER NOT NULL,
            paid_amount INTEGER NOT NULL CHECK (paid_amount >= 0),
            amount INTEGER NOT NULL CHECK (amount >= 0),
            created_at INTEGER NOT NULL,
            UNIQUE (user_id, payment_id)
          );
          """)
      // One row per reward that failed for good: the decision is recorded once, with the
      // PointRewardFailed and CompensatePayment it caused, so a redelivery re-announces the
      // same outcome instead of deciding again (the report's catch block re-sent the
      // compensation on every retry). No foreign key: the typical failure is a user
      // without an account.
      try db.execute(
        sql: """
          CREATE TABLE reward_failures (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            user_id INTEGER NOT NULL,
            payment_id INTEGER NOT NULL,
            reservation_id INTEGER NOT NULL,
            paid_amount INTEGER NOT NULL CHECK (paid_amount >= 0),
            reason_code TEXT NOT NULL,
            reason TEXT NOT NULL,
            failed_at INTEGER NOT NULL,
            UNIQUE (user_id, payment_id)
          );
          """)
    }
    // Points' half of `sagactl saga <payment>`: one row per ReservationCompleted handled,
    // with the outbox rows (a JSON array of ids) its decision wrote. No foreign key, like
    // reward_failures: the payment lives in Payments' database.
    migrator.registerMigration("points-v2-saga-steps") { db in
      try db.execute(
        sql: """
          CREATE TABLE point_saga_steps (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            payment_id INTEGER NOT NULL,
            at INTEGER NOT NULL,
            step TEXT NOT NULL,
            topic TEXT,
            "partition" INTEGER,
            "offset" INTEGER,
            event_id TEXT,
            outcome TEXT NOT NULL,
            outbox_ids TEXT NOT NULL DEFAULT '[]'
          );
          CREATE INDEX point_saga_steps_payment ON point_saga_steps(payment_id);
          """)
    }
  }
}
