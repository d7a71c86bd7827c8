import Synchronization

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
/// * one held write per table: an UPDATE would not see rows a sibling inserted, two UPDATEs
///   of one row keep only one of them, and PostgreSQL does not promise in which order the
///   parts of a statement run, so two INSERTs could take identity values (the outbox's order)
///   in either order;
/// * the statement they go in front of names none of their tables (as a whole word), and
///   is a plain SELECT, INSERT, UPDATE or DELETE; otherwise they are sent first, on their own.
///   A caller that knows its statement reads no row they write may say so
///   (`SQLConnection.queryBesideDeferred`): then only the kind of statement is checked.
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
    guard let held = shape(sql).held else { return nil }
    return Write(sql: sql, arguments: arguments, table: held.table, isUpdate: held.isUpdate)
  }

  /// Whether `write` may join the held ones (else they must be sent first).
  func accepts(_ write: Write) -> Bool {
    !writes.contains { held in held.table == write.table }
  }

  mutating func hold(_ write: Write) { writes.append(write) }

  /// Takes the held writes out.
  mutating func take() -> [Write] {
    defer { writes = [] }
    return writes
  }

  /// Whether the held writes may go in front of `sql` (see the type's rules).
  /// - Parameter namingTheirTables: the caller vouches that `sql` reads no row they write
  ///   (`SQLConnection.queryBesideDeferred`): only the kind of statement is checked.
  func canPrecede(_ sql: String, namingTheirTables: Bool = false) -> Bool {
    let shape = Self.shape(sql)
    return shape.isPlain && (namingTheirTables || !writes.contains { shape.words.contains($0.table) })
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

  /// What the rules need to know of a statement's text. The stores send a fixed set of
  /// texts, so each is read once (the hot paths send thousands a second).
  struct Shape {
    /// The table it writes, when it may be held.
    var held: (table: String, isUpdate: Bool)?
    /// A plain SELECT, INSERT, UPDATE or DELETE: held writes may go in front of it.
    var isPlain: Bool
    /// Its words, lowercased: runs of letters, digits, `_` and non-ASCII bytes (quotes and
    /// punctuation separate them, so `"outbox"` is the word `outbox`).
    var words: Set<String>
  }

  private static let shapes = Mutex<[String: Shape]>([:])

  static func shape(_ sql: String) -> Shape {
    if let known = shapes.withLock({ $0[sql] }) { return known }
    let shape = read(sql)
    // Statements built from a variable list are few shapes too; the bound keeps memory flat.
    shapes.withLock { cache in
      if cache.count < 4_096 { cache[sql] = shape }
    }
    return shape
  }

  private static func read(_ sql: String) -> Shape {
    var words: Set<String> = []
    var word: [UInt8] = []
    for byte in sql.lowercased().utf8 {
      if (byte >= 97 && byte <= 122) || (byte >= 48 && byte <= 57) || byte == 95 || byte >= 128 {
        word.append(byte)
      } else if !word.isEmpty {
        words.insert(String(decoding: word, as: UTF8.self))
        word = []
      }
    }
    if !word.isEmpty { words.insert(String(decoding: word, as: UTF8.self)) }
    let first = sql.prefix(while: { !$0.isWhitespace }).lowercased()
    let isPlain = ["select", "insert", "update", "delete"].contains(first)
    let tokens = sql.split(whereSeparator: { $0.isWhitespace || $0 == "(" }).prefix(3).map { $0.lowercased() }
    var held: (table: String, isUpdate: Bool)?
    if !words.contains("select") {
      if tokens.count >= 3, tokens[0] == "insert", tokens[1] == "into" {
        held = (name(tokens[2]), false)
      } else if tokens.count >= 2, tokens[0] == "update" {
        held = (name(tokens[1]), true)
      }
    }
    return Shape(held: held, isPlain: isPlain, words: words)
  }

  /// `"Outbox"` → `outbox`; a schema-qualified name keeps its last part.
  private static func name(_ word: String) -> String {
    let last = word.split(separator: ".").last.map(String.init) ?? word
    return last.replacingOccurrences(of: "\"", with: "")
  }
}
