import GRDB

/// The tables every service database has. Registered before the service's own
/// migrations; GRDB applies whatever is missing, so a later storage migration
/// added here also reaches databases whose service migrations already ran.
/// Identifiers start with `storage-`; services should prefix theirs with their
/// name (`payments-`, `points-`) so the two never collide.
enum StorageMigrations {
  static func register(in migrator: inout DatabaseMigrator) {
    migrator.registerMigration("storage-v1-outbox") { db in
      // AUTOINCREMENT: ids are never reused, even when a purge empties the table,
      // so an id in a log line names one message forever.
      try db.execute(
        sql: """
          CREATE TABLE outbox (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            topic TEXT NOT NULL,
            message_key TEXT,
            payload BLOB NOT NULL,
            headers TEXT NOT NULL DEFAULT '[]',
            created_at INTEGER NOT NULL,
            sent_at INTEGER,
            attempts INTEGER NOT NULL DEFAULT 0
          );
          -- The relay's scan: only unsent rows, however many sent rows retention keeps.
          CREATE INDEX outbox_unsent ON outbox(id) WHERE sent_at IS NULL;
          -- The retention purge: finds old sent rows without scanning the table.
          CREATE INDEX outbox_sent_at ON outbox(sent_at) WHERE sent_at IS NOT NULL;
          """)
    }
    migrator.registerMigration("storage-v1-inbox") { db in
      try db.execute(
        sql: """
          CREATE TABLE inbox (
            consumer_group TEXT NOT NULL,
            event_id TEXT NOT NULL,
            topic TEXT NOT NULL,
            "partition" INTEGER NOT NULL,
            "offset" INTEGER NOT NULL,
            processed_at INTEGER NOT NULL,
            PRIMARY KEY (consumer_group, event_id)
          ) WITHOUT ROWID;
          CREATE INDEX inbox_processed_at ON inbox(processed_at);
          """)
    }
    migrator.registerMigration("storage-v1-failed-messages") { db in
      try db.execute(
        sql: """
          CREATE TABLE failed_messages (
            id INTEGER PRIMARY KEY,
            consumer_group TEXT NOT NULL,
            topic TEXT NOT NULL,
            "partition" INTEGER NOT NULL,
            "offset" INTEGER NOT NULL,
            message_key TEXT,
            payload BLOB NOT NULL,
            headers TEXT NOT NULL DEFAULT '[]',
            reason_code TEXT NOT NULL,
            reason TEXT NOT NULL,
            failed_at INTEGER NOT NULL,
            UNIQUE (consumer_group, topic, "partition", "offset")
          );
          """)
    }
  }
}
