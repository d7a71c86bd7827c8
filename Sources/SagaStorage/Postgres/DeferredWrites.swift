/// The writes a PostgreSQL connection holds back until its next statement, so that both go
/// in one round trip (Docs/storage-engines.md, "Deferred writes"): PostgresNIO sends one
/// statement per round trip, and a round trip costs more CPU on both sides than the
/// statements of a saga do. Held writes become data-modifying CTEs in front of the next
/// statement: `WITH d1 AS (<write>), d2 AS (<write>) <statement>`.
///
/// All parts of such a statement see the same snapshot and none sees another's changes, so
/// only what cannot tell the difference is merged:
/// * a held write is a plain `INSERT INTO t …` or `UPDATE t …` that reads no table (no
///   `SELECT`); anything else runs at once;
/// * per table, the held writes are INSERTs only, or one UPDATE alone: an UPDATE would not
///   see rows a sibling inserted, and two UPDATEs of one row keep only one of them;
/// * the statement they go in front of names none of their tables (as a whole word), and
///   is a plain SELECT, INSERT, UPDATE or DELETE; otherwise they are sent first, on their own.
///
/// Foreign keys are checked at the end of the statement, after every part ran.
struct DeferredWrites {
  struct Write {
    var sql: String
    var arguments: [SQLValue]
    /// The table written, lowercased, without quotes.
    var table: String
    var isUpdate: Bool
  }

  private(set) var writes: [Write] = []
  /// Whether the connection's last failed statement carried held writes.
  var lastFailureCarriedWrites = false

  var isEmpty: Bool { writes.isEmpty }

  /// The write `sql` would be, or nil when it must not be held (see the type's rules).
  static func write(_ sql: String, _ arguments: [SQLValue]) -> Write? {
    let words = sql.split(whereSeparator: { $0.isWhitespace || $0 == "(" }).prefix(3).map { $0.lowercased() }
    guard !Self.mentions(sql, "select") else { return nil }
    if words.count >= 3, words[0] == "insert", words[1] == "into" {
      return Write(sql: sql, arguments: arguments, table: Self.name(words[2]), isUpdate: false)
    }
    if words.count >= 2, words[0] == "update" {
      return Write(sql: sql, arguments: arguments, table: Self.name(words[1]), isUpdate: true)
    }
    return nil
  }

  /// Whether `write` may join the held ones (else they must be sent first).
  func accepts(_ write: Write) -> Bool {
    !writes.contains { held in held.table == write.table && (held.isUpdate || write.isUpdate) }
  }

  mutating func hold(_ write: Write) { writes.append(write) }

  /// Takes the held writes out.
  mutating func take() -> [Write] {
    defer { writes = [] }
    return writes
  }

  /// Whether the held writes may go in front of `sql` (see the type's rules).
  func canPrecede(_ sql: String) -> Bool {
    let first = sql.prefix(while: { !$0.isWhitespace }).lowercased()
    guard ["select", "insert", "update", "delete"].contains(first) else { return false }
    return !writes.contains { Self.mentions(sql, $0.table) }
  }

  /// `writes` as CTEs in front of `statement` (the last write itself when nil), with the
  /// arguments in placeholder order.
  static func merged(_ writes: [Write], before statement: (sql: String, arguments: [SQLValue])?) -> (
    sql: String, arguments: [SQLValue]
  ) {
    var ctes = writes
    let main: (sql: String, arguments: [SQLValue])
    if let statement {
      main = statement
    } else {
      let last = ctes.removeLast()
      main = (last.sql, last.arguments)
    }
    guard !ctes.isEmpty else { return main }
    let prefix = ctes.enumerated().map { index, write in "d\(index + 1) AS (\(write.sql))" }
    return ("WITH " + prefix.joined(separator: ", ") + " " + main.sql, ctes.flatMap(\.arguments) + main.arguments)
  }

  /// Whether `word` occurs in `sql` as a whole word, ignoring case (quotes count as word
  /// boundaries, so `"outbox"` is found too).
  static func mentions(_ sql: String, _ word: String) -> Bool {
    let text = Array(sql.lowercased().utf8)
    let target = Array(word.utf8)
    guard !target.isEmpty, text.count >= target.count else { return false }
    func isWordByte(_ byte: UInt8) -> Bool {
      (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57) || byte == 95 || byte >= 128
    }
    var start = 0
    while start + target.count <= text.count {
      if text[start] == target[0], Array(text[start..<start + target.count]) == target {
        let before = start == 0 || !isWordByte(text[start - 1])
        let end = start + target.count
        let after = end == text.count || !isWordByte(text[end])
        if before && after { return true }
      }
      start += 1
    }
    return false
  }

  /// `"Outbox"` → `outbox`; a schema-qualified name keeps its last part.
  private static func name(_ word: String) -> String {
    let last = word.split(separator: ".").last.map(String.init) ?? word
    return last.replacingOccurrences(of: "\"", with: "")
  }
}
