import Foundation
import GRDB
import SagaCore

/// The dead-letter store's own database (`<state_dir>/dlt.sqlite`): one table, no
/// outbox or inbox, since nothing is published from it through an outbox.
enum DeadLetterSchema {
  static func register(in migrator: inout DatabaseMigrator) {
    migrator.registerMigration("dlt-v1-dead-letters") { db in
      // AUTOINCREMENT: an id an operator wrote down names one dead letter forever.
      try db.execute(
        sql: """
          CREATE TABLE dead_letters (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            dlt_topic TEXT NOT NULL,
            dlt_partition INTEGER NOT NULL,
            dlt_offset INTEGER NOT NULL,
            dlt_timestamp INTEGER,
            original_topic TEXT,
            original_partition INTEGER,
            original_offset INTEGER,
            original_timestamp INTEGER,
            original_consumer_group TEXT,
            message_key BLOB,
            value BLOB,
            headers TEXT NOT NULL DEFAULT '[]',
            reason TEXT NOT NULL,
            reason_code TEXT,
            failure_class TEXT,
            attempts INTEGER,
            error_type TEXT,
            event_id TEXT,
            first_seen_at INTEGER NOT NULL,
            status TEXT NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'replayed', 'discarded')),
            replay_count INTEGER NOT NULL DEFAULT 0,
            last_replayed_at INTEGER,
            discarded_at INTEGER,
            discard_note TEXT,
            -- A DLT record redelivered (a crash before the offset commit, a new group) is one row.
            UNIQUE (dlt_topic, dlt_partition, dlt_offset)
          );
          CREATE INDEX dead_letters_status ON dead_letters(status, original_topic);
          CREATE INDEX dead_letters_first_seen ON dead_letters(first_seen_at);
          """)
    }
    migrator.registerMigration("dlt-v2-origin") { db in
      // Dead letters stored from an outbox row that was never published have no place in a
      // topic; `origin` (`outbox:<service>:<row id>`) names them once, so a relay that stores
      // the same row again after a crash adds nothing.
      try db.execute(
        sql: """
          ALTER TABLE dead_letters ADD COLUMN origin TEXT;
          CREATE UNIQUE INDEX dead_letters_origin ON dead_letters(origin) WHERE origin IS NOT NULL;
          """)
    }
  }

  static func encode(_ headers: [RecordHeader]) throws -> String {
    if headers.isEmpty { return "[]" }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.withoutEscapingSlashes]
    return String(decoding: try encoder.encode(headers.map(StoredHeader.init)), as: UTF8.self)
  }

  static func decode(_ text: String, id: Int64, in db: some SQLConnection) throws -> [RecordHeader] {
    if text == "[]" { return [] }
    do {
      return try JSONDecoder().decode([StoredHeader].self, from: Data(text.utf8)).map(\.header)
    } catch {
      throw StorageError(
        kind: .corrupt, code: 0, path: db.location,
        message: "dead_letters row \(id): headers are not a JSON array of {name, text|base64}: \(text.prefix(200))")
    }
  }

  /// One header in the column: `{"name":…,"text":…}` for UTF-8 values, `{"name":…,"base64":…}`
  /// for other bytes, `{"name":…}` for null, so that the column stays readable with
  /// `sqlite3` and `json_each` and nothing is lost.
  private struct StoredHeader: Codable {
    let header: RecordHeader

    init(_ header: RecordHeader) {
      self.header = header
    }

    private enum CodingKeys: String, CodingKey {
      case name
      case text
      case base64
    }

    init(from decoder: any Decoder) throws {
      let container = try decoder.container(keyedBy: CodingKeys.self)
      let name = try container.decode(String.self, forKey: .name)
      if let text = try container.decodeIfPresent(String.self, forKey: .text) {
        header = RecordHeader(name: name, value: text)
      } else if let base64 = try container.decodeIfPresent(String.self, forKey: .base64) {
        guard let data = Data(base64Encoded: base64) else {
          throw DecodingError.dataCorruptedError(forKey: .base64, in: container, debugDescription: "not base64")
        }
        header = RecordHeader(name: name, bytes: [UInt8](data))
      } else {
        header = RecordHeader(name: name, bytes: nil)
      }
    }

    func encode(to encoder: any Encoder) throws {
      var container = encoder.container(keyedBy: CodingKeys.self)
      try container.encode(header.name, forKey: .name)
      switch header.content {
      case .text(let text): try container.encode(text, forKey: .text)
      case .binary(let bytes): try container.encode(Data(bytes).base64EncodedString(), forKey: .base64)
      case .null: break
      }
    }
  }
}
