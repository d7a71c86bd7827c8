import Foundation
import GRDB
import SagaCore

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
    migrator.registerMigration("storage-v2-retry-schedule") { db in
      // Keys and values as BLOBs: a record is retried byte for byte, whatever it holds.
      try db.execute(
        sql: """
          CREATE TABLE retry_schedule (
            id INTEGER PRIMARY KEY,
            consumer_group TEXT NOT NULL,
            topic TEXT NOT NULL,
            "partition" INTEGER NOT NULL,
            "offset" INTEGER NOT NULL,
            message_key BLOB,
            payload BLOB,
            headers TEXT NOT NULL DEFAULT '[]',
            "timestamp" INTEGER,
            timestamp_type TEXT,
            attempts INTEGER NOT NULL,
            first_failed_at INTEGER NOT NULL,
            last_error_code TEXT NOT NULL,
            last_error_message TEXT NOT NULL,
            due_at INTEGER NOT NULL,
            UNIQUE (consumer_group, topic, "partition", "offset")
          );
          -- The worker's question between polls: what of my group is due?
          CREATE INDEX retry_schedule_due ON retry_schedule(consumer_group, due_at);
          """)
    }
    migrator.registerMigration("storage-v2-dead-lettered") { db in
      // Dead letters now go to `<topic>.DLT` through the outbox; this table only remembers
      // which records were dead-lettered, so a redelivery is not dead-lettered twice. The
      // interim failed_messages records become dead letters, so none is lost on upgrade.
      try db.execute(
        sql: """
          CREATE TABLE dead_lettered (
            consumer_group TEXT NOT NULL,
            topic TEXT NOT NULL,
            "partition" INTEGER NOT NULL,
            "offset" INTEGER NOT NULL,
            failure_class TEXT NOT NULL,
            reason_code TEXT NOT NULL,
            attempts INTEGER NOT NULL,
            dead_lettered_at INTEGER NOT NULL,
            PRIMARY KEY (consumer_group, topic, "partition", "offset")
          ) WITHOUT ROWID;
          """)
      let rows = try Row.fetchAll(
        db,
        sql: """
          SELECT id, consumer_group, topic, "partition", "offset", message_key, payload, headers, reason_code,
                 reason, failed_at
          FROM failed_messages ORDER BY id
          """)
      for row in rows {
        let id: Int64 = row["id"]
        let key: String? = row["message_key"]
        let payload: Data = row["payload"] ?? Data()
        let headers = try HeaderCoding.decode(row["headers"], row: "failed_messages row \(id)", in: db)
        let letter = DeadLetter(
          message: InboundMessage(
            topic: row["topic"], partition: row["partition"], offset: row["offset"], key: key.map { Array($0.utf8) },
            value: [UInt8](payload), headers: headers),
          consumerGroup: row["consumer_group"], timestampType: nil,
          error: SagaError(SagaError.Code(rawValue: row["reason_code"]), row["reason"], failureClass: .permanent),
          failureClass: .permanent, attempts: 1)
        let failedAt = Date(millisecondsSinceEpoch: row["failed_at"])
        if try DeadLetters.mark(letter, at: failedAt, in: db) {
          // Into the outbox as it is at this point of the migrations (one `headers`
          // column): `Outbox.append` writes the columns storage-v3 adds.
          let message = letter.outboxMessage
          try db.execute(
            sql: """
              INSERT INTO outbox (topic, message_key, payload, headers, created_at, attempts)
              VALUES (?, ?, ?, ?, ?, 0)
              """,
            arguments: [
              message.topic, message.key, Data(message.payload), try HeaderCoding.encode(message.headers),
              failedAt.millisecondsSinceEpoch,
            ])
        }
      }
      try db.execute(sql: "DROP TABLE failed_messages")
    }
    migrator.registerMigration("storage-v3-outbox-envelope-columns") { db in
      // The envelope headers move from the JSON list into columns of their own
      // (`OutboxHeaderColumns`); the rest of each list stays JSON in extra_headers. Every
      // row is converted, sent ones too: a row publishes the same headers, byte for byte,
      // as it would have before the upgrade.
      try db.execute(
        sql: """
          ALTER TABLE outbox ADD COLUMN event_id TEXT;
          ALTER TABLE outbox ADD COLUMN event_type TEXT;
          ALTER TABLE outbox ADD COLUMN event_version TEXT;
          ALTER TABLE outbox ADD COLUMN traceparent TEXT;
          ALTER TABLE outbox ADD COLUMN correlation_id TEXT;
          ALTER TABLE outbox ADD COLUMN producer TEXT;
          ALTER TABLE outbox ADD COLUMN occurred_at TEXT;
          ALTER TABLE outbox ADD COLUMN extra_headers TEXT NOT NULL DEFAULT '[]';
          """)
      let update = try db.makeStatement(
        sql: """
          UPDATE outbox SET event_id = ?, event_type = ?, event_version = ?, traceparent = ?, correlation_id = ?,
                            producer = ?, occurred_at = ?, extra_headers = ?
          WHERE id = ?
          """)
      let rows = try Row.fetchAll(db, sql: "SELECT id, headers FROM outbox WHERE headers <> '[]'")
      for row in rows {
        let id: Int64 = row[0]
        let columns = OutboxHeaderColumns(
          splitting: try HeaderCoding.decode(row[1], row: "outbox row \(id)", in: db))
        let envelope = columns.envelope
        try update.execute(arguments: [
          envelope?[0], envelope?[1], envelope?[2], envelope?[3], envelope?[4], envelope?[5], envelope?[6],
          try HeaderCoding.encode(columns.extras), id,
        ])
      }
      try db.execute(sql: "ALTER TABLE outbox DROP COLUMN headers")
    }
    migrator.registerMigration("storage-v4-outbox-closed") { db in
      // A row that can never be sent (too large, …) or that an operator discards is closed:
      // `sent_at` set, so it leaves the relay's index and is purged like a sent row, and
      // `closed_reason` says why; its copy is in the dead-letter store. `last_error` is the
      // latest failed attempt's error, for `sagactl outbox list`.
      try db.execute(
        sql: """
          ALTER TABLE outbox ADD COLUMN closed_reason TEXT;
          ALTER TABLE outbox ADD COLUMN last_error TEXT;
          """)
    }
  }
}
