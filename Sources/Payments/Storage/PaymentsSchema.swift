public import GRDB
public import SagaStorage

/// The Payments service's tables, as the GRDB migrations `PaymentsDatabase.migrator`
/// registers after the storage tables.
///
/// Money invariants are enforced by the schema where SQLite can (non-negative balances,
/// one payment per (user, schedule), one refund per payment, ledger rows whose sign
/// matches their kind) and checked by `PaymentsService.verify()` where it cannot (the
/// balance equals the sum of the ledger). Times are integer milliseconds since the epoch,
/// as in the storage tables. Migration identifiers start with `payments-` so they never
/// collide with the storage or Points migrations in a shared migrator.
public enum PaymentsSchema: ServiceSchema {
  /// The saga timeline (`sagactl saga`), purged after `timeline.retention`.
  public static let timelineTable = "saga_steps"

  public static let postgresSchema = "payments"

  /// Registers the Payments migrations in `migrator`.
  public static func register(in migrator: inout DatabaseMigrator) {
    migrator.registerMigration("payments-v1") { db in
      try db.execute(sql: walletTables)
      try db.execute(sql: sagaTables)
    }
    migrator.registerMigration("payments-v2-recovery") { db in
      try db.execute(sql: recoveryTables)
    }
    migrator.registerMigration("payments-v3-null-refund-reason") { db in
      try db.execute(sql: nullableRefundReason)
    }
    migrator.registerMigration("payments-v4-peers") { db in
      // Why a stuck saga was reported: over sweeper.max_republish, or not re-announced at
      // all because Points is a peer without idempotency (peers.points: spring).
      try db.execute(sql: "ALTER TABLE saga_republishes ADD COLUMN reason TEXT")
    }
  }

  private static let walletTables = """
    CREATE TABLE users (
      id INTEGER PRIMARY KEY CHECK (id > 0),
      created_at INTEGER NOT NULL
    );
    CREATE TABLE wallets (
      user_id INTEGER PRIMARY KEY REFERENCES users(id),
      balance INTEGER NOT NULL CHECK (balance >= 0),
      updated_at INTEGER NOT NULL
    );
    -- AUTOINCREMENT: ids are never reused, so an id in a log or an audit names one
    -- reservation or payment forever (the wire carries them as paymentId/reservationId).
    CREATE TABLE reservations (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      user_id INTEGER NOT NULL REFERENCES users(id),
      schedule_id INTEGER NOT NULL CHECK (schedule_id > 0),
      seat TEXT,
      status TEXT NOT NULL CHECK (status IN ('RESERVED', 'CANCELLED')),
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL
    );
    -- A seat is sold once per schedule; a cancelled reservation frees it.
    CREATE UNIQUE INDEX reservations_seat ON reservations(schedule_id, seat)
      WHERE seat IS NOT NULL AND status = 'RESERVED';
    CREATE TABLE payments (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      user_id INTEGER NOT NULL REFERENCES users(id),
      reservation_id INTEGER NOT NULL UNIQUE REFERENCES reservations(id),
      schedule_id INTEGER NOT NULL,
      amount INTEGER NOT NULL CHECK (amount > 0),
      status TEXT NOT NULL
        CHECK (status IN ('PAID', 'REWARDED', 'REWARD_FAILED', 'REFUNDED', 'COMPENSATION_FAILED')),
      reward_amount INTEGER CHECK (reward_amount >= 0),
      point_id INTEGER,
      failure_reason TEXT,
      trace_id TEXT NOT NULL,
      correlation_id TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      updated_at INTEGER NOT NULL,
      -- The report's idempotency key: one payment per user and schedule.
      UNIQUE (user_id, schedule_id)
    );
    -- The stuck-saga sweeper looks for payments still PAID after a while.
    CREATE INDEX payments_status ON payments(status, created_at);
    -- Every balance change is one row; the wallet's balance is the sum of its rows.
    -- The CHECK ties the sign and the payment reference to the kind, so a refund can
    -- never be written as a charge by mistake.
    CREATE TABLE wallet_ledger (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      user_id INTEGER NOT NULL REFERENCES users(id),
      amount INTEGER NOT NULL,
      kind TEXT NOT NULL CHECK (kind IN ('charge', 'payment', 'refund')),
      payment_id INTEGER REFERENCES payments(id),
      created_at INTEGER NOT NULL,
      CHECK (
        (kind = 'charge' AND amount > 0 AND payment_id IS NULL)
        OR (kind = 'payment' AND amount < 0 AND payment_id IS NOT NULL)
        OR (kind = 'refund' AND amount > 0 AND payment_id IS NOT NULL)
      )
    );
    CREATE INDEX wallet_ledger_user ON wallet_ledger(user_id);
    -- A second line of defence behind the code: one debit and at most one refund per payment.
    CREATE UNIQUE INDEX wallet_ledger_payment_kind ON wallet_ledger(payment_id, kind)
      WHERE payment_id IS NOT NULL;
    CREATE TABLE refunds (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      payment_id INTEGER NOT NULL UNIQUE REFERENCES payments(id),
      amount INTEGER NOT NULL CHECK (amount > 0),
      reason TEXT NOT NULL,
      created_at INTEGER NOT NULL
    );
    """

  private static let sagaTables = """
    -- Parked compensations, waiting for an operator. No foreign key: a compensation
    -- for a payment that does not exist is exactly one of the cases parked here.
    CREATE TABLE compensation_failures (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      payment_id INTEGER NOT NULL,
      user_id INTEGER NOT NULL,
      refund_amount INTEGER NOT NULL,
      reason_code TEXT NOT NULL,
      reason TEXT NOT NULL,
      created_at INTEGER NOT NULL,
      resolved_at INTEGER,
      note TEXT
    );
    CREATE INDEX compensation_failures_payment ON compensation_failures(payment_id);
    CREATE INDEX compensation_failures_unresolved ON compensation_failures(id) WHERE resolved_at IS NULL;
    -- The saga's timeline, one row per step, for `sagactl saga <payment>`. No foreign
    -- key for the same reason: steps about unknown payments are worth showing too.
    CREATE TABLE saga_steps (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      payment_id INTEGER NOT NULL,
      at INTEGER NOT NULL,
      step TEXT NOT NULL,
      topic TEXT,
      "partition" INTEGER,
      "offset" INTEGER,
      event_id TEXT,
      outcome TEXT NOT NULL
    );
    CREATE INDEX saga_steps_payment ON saga_steps(payment_id, id);
    """

  /// Issue 4: who closed a parked compensation and how; the announcement's traceparent,
  /// so the stuck-saga sweeper re-announces under the same one; its republish counters.
  private static let recoveryTables = """
    -- 'retried' (refunded by `compensations retry`) or 'resolved' (handled outside
    -- sagad, `compensations resolve`); NULL while open.
    ALTER TABLE compensation_failures ADD COLUMN resolution TEXT
      CHECK (resolution IS NULL OR resolution IN ('retried', 'resolved'));
    ALTER TABLE compensation_failures ADD COLUMN resolved_by TEXT;
    -- NULL for payments made before this migration: the sweeper then keeps the trace id
    -- and starts a new span.
    ALTER TABLE payments ADD COLUMN traceparent TEXT;
    -- One row per payment the sweeper re-announced: how often, when last, and when it
    -- was reported as over `sweeper.max_republish` (so it is logged once).
    CREATE TABLE saga_republishes (
      payment_id INTEGER PRIMARY KEY REFERENCES payments(id),
      republish_count INTEGER NOT NULL CHECK (republish_count >= 0),
      last_republished_at INTEGER NOT NULL,
      reported_at INTEGER
    );
    """

  /// Issue 12: a Java Points sends `"reason": null` for an exception without a message,
  /// and the refund keeps that NULL rather than inventing a text. SQLite cannot drop a
  /// NOT NULL in place, so the table is rebuilt: same columns, rows and ids.
  private static let nullableRefundReason = """
    CREATE TABLE refunds_v3 (
      id INTEGER PRIMARY KEY AUTOINCREMENT,
      payment_id INTEGER NOT NULL UNIQUE REFERENCES payments(id),
      amount INTEGER NOT NULL CHECK (amount > 0),
      reason TEXT,
      created_at INTEGER NOT NULL
    );
    INSERT INTO refunds_v3 (id, payment_id, amount, reason, created_at)
      SELECT id, payment_id, amount, reason, created_at FROM refunds;
    DROP TABLE refunds;
    ALTER TABLE refunds_v3 RENAME TO refunds;
    """
}
