import Foundation
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
///   in either order. A write of the same text as the table's held one joins it as one more
///   row instead (``Coalescing``): `INSERT … VALUES (…)` becomes one multi-row INSERT (rows
///   inserted in order), `UPDATE t SET … WHERE key = ?` one `UPDATE … FROM (VALUES …)` when
///   no two rows name the same key; so consecutive records' writes are one statement;
/// * the statement they go in front of names none of their tables (as a whole word), and
///   is a plain SELECT, INSERT, UPDATE or DELETE; otherwise they are sent first, on their own.
///   A caller that knows its statement reads no row they write may say so
///   (`SQLConnection.queryBesideDeferred`): then only the kind of statement is checked.
///
/// Foreign keys are checked at the end of the statement, after every part ran.
struct DeferredWrites {
  struct Write {
    /// The statement of one row (``rows`` of them share it).
    var sql: String
    /// Every row's arguments, in order.
    var arguments: [SQLValue]
    /// The table written, lowercased, without quotes.
    var table: String
    var isUpdate: Bool
    /// How many writes of `sql` this one stands for.
    var rows = 1
    /// How more rows of `sql` join it, from its ``Shape``, read once here: the lookup hashes
    /// the whole text, and `accepts` and `hold` ask again for every write.
    var coalescing: Coalescing?

    /// The statement that writes all ``rows``, with its arguments: one array per parameter
    /// when the rows allow it (``ColumnArrays``), so that the text is the same however many
    /// rows there are and each connection prepares it once; else one `VALUES` row per write.
    var bound: (sql: String, arguments: [SQLValue]) {
      guard rows > 1 else { return (sql, arguments) }
      if let columns = ColumnArrays(arguments, rows: rows) {
        // An UPDATE names its keys' array twice: as the rows' last column and for the index.
        let keys = isUpdate ? columns.literals.suffix(1) : []
        return (DeferredWrites.unnested(sql, kinds: columns.kinds), columns.literals + keys)
      }
      return (DeferredWrites.coalesced(sql, rows: rows), arguments)
    }
  }

  /// The most rows one held write gathers: the statement stays far below PostgreSQL's 65,535
  /// parameters, and a batch's writes still go in a few statements.
  static let maxRows = 64

  private(set) var writes: [Write] = []
  /// Whether the connection's last failed statement carried held writes.
  var lastFailureCarriedWrites = false

  var isEmpty: Bool { writes.isEmpty }

  /// The write `sql` would be, or nil when it must not be held (see the type's rules).
  static func write(_ sql: String, _ arguments: [SQLValue]) -> Write? {
    let shape = shape(sql)
    guard let held = shape.held else { return nil }
    return Write(
      sql: sql, arguments: arguments, table: held.table, isUpdate: held.isUpdate, coalescing: shape.coalescing)
  }

  /// Whether `write` may join the held ones (else they must be sent first): its table has no
  /// held write, or the held one takes it as one more row.
  func accepts(_ write: Write) -> Bool {
    guard let held = writes.first(where: { $0.table == write.table }) else { return true }
    return Self.absorbs(held, write)
  }

  /// Holds `write`, as one more row of its table's held write when there is one (``accepts(_:)``
  /// said yes).
  mutating func hold(_ write: Write) {
    guard let index = writes.firstIndex(where: { $0.table == write.table }) else {
      writes.append(write)
      return
    }
    precondition(Self.absorbs(writes[index], write), "a held write of \(write.table) cannot take this one")
    writes[index].arguments += write.arguments
    writes[index].rows += write.rows
  }

  /// Whether `held` takes `write` as more rows: the same single-row text, of a shape that
  /// coalesces, room left; for an UPDATE, values of the same kinds and no NULL (the `VALUES`
  /// list's column types come from them) and a key no row of `held` has (a row updated twice
  /// in one `UPDATE … FROM` takes only one of its updates).
  static func absorbs(_ held: Write, _ write: Write) -> Bool {
    guard held.sql == write.sql, write.rows == 1, held.rows < maxRows, let coalescing = held.coalescing
    else { return false }
    guard case .update = coalescing else { return true }
    let width = write.arguments.count
    guard width > 0, held.arguments.count == width * held.rows,
      !write.arguments.contains(.null), !held.arguments.contains(.null),
      zip(held.arguments.prefix(width), write.arguments).allSatisfy({ PreparedStatements.Kind($0) == .init($1) })
    else { return false }
    let key = write.arguments[width - 1]
    return !stride(from: width - 1, to: held.arguments.count, by: width).contains { held.arguments[$0] == key }
  }

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
      main = ctes.removeLast().bound
    }
    guard !ctes.isEmpty else { return main }
    let parts = ctes.map(\.bound)
    let prefix = parts.enumerated().map { index, part in "d\(index + 1) AS (\(part.sql))" }
    return ("WITH " + prefix.joined(separator: ", ") + " " + main.sql, parts.flatMap(\.arguments) + main.arguments)
  }

  /// How a held write's statement takes more rows.
  enum Coalescing {
    /// `INSERT INTO t (…) VALUES (…)`: the text up to the row, and the row, repeated.
    case insert(head: String, row: String)
    /// `UPDATE t SET … WHERE key = ?`: `UPDATE t SET <assignments> FROM (VALUES (…), …)
    /// AS v(a1, …, aN) WHERE t.key = v.aN`, the assignments' `?` turned into `v.a1`, ….
    case update(table: String, assignments: String, key: String, parameters: Int)
  }

  /// The statement of `rows` writes of `sql` (whose shape coalesces), built once per count.
  static func coalesced(_ sql: String, rows: Int) -> String {
    cached("\(rows)\u{0}\(sql)") {
      switch shape(sql).coalescing {
      case .insert(let head, let row):
        return head + repeatElement(row, count: rows).joined(separator: ", ")
      case .update(let table, let assignments, let key, let parameters):
        let row = "(" + repeatElement("?", count: parameters).joined(separator: ", ") + ")"
        let columns = (1...parameters).map { "a\($0)" }.joined(separator: ", ")
        return "UPDATE \(table) SET \(assignments) FROM (VALUES "
          + repeatElement(row, count: rows).joined(separator: ", ")
          + ") AS v(\(columns)) WHERE \(table).\(key) = v.a\(parameters)"
      case nil:
        preconditionFailure("not a statement that coalesces: \(sql)")
      }
    }
  }

  /// The statement of writes of `sql` (whose shape coalesces) taking their rows from one array
  /// per parameter, of these kinds, whatever the number of rows:
  /// `INSERT INTO t (…) SELECT <the row's expressions> FROM unnest(CAST(? AS BIGINT[]), …) WITH
  /// ORDINALITY AS v(a1, …, n) ORDER BY v.n` (rows inserted in the order written, so identity
  /// values follow it as in a multi-row `VALUES`), or `UPDATE t SET … FROM unnest(…) AS v(…)
  /// WHERE t.key = v.aN AND t.key = ANY(<the keys' array again>)`.
  ///
  /// The UPDATE's second condition is for the plan, not the result. A prepared statement's
  /// generic plan is made once, from the table's size at that moment, and kept until the table
  /// is next analyzed: made while the table was small, the join on `v.aN` alone read the whole
  /// table for every batch (a hash join over a sequential scan) as it grew, 1.1 ms a statement
  /// at 5,000 payments and linear in the table's rows. With the keys as an array the plan probes
  /// the key's index whatever the size it was made for (Docs/storage-engines.md, "Prepared
  /// statements").
  static func unnested(_ sql: String, kinds: [PreparedStatements.Kind]) -> String {
    cached("u" + String(decoding: kinds.map { $0.rawValue + 48 }, as: UTF8.self) + "\u{0}\(sql)") {
      let typed = kinds.filter { $0 != .null }
      let arrays = typed.map { "CAST(? AS \($0.arrayType))" }.joined(separator: ", ")
      let columns = (1...typed.count).map { "a\($0)" }.joined(separator: ", ")
      switch shape(sql).coalescing {
      case .insert(let head, let row):
        // Parameter i reads its array's column, or is NULL when it is NULL in every row.
        var count = 0
        var column = 0
        let expressions = String(row.dropFirst().dropLast()).replacingPlaceholders { index in
          count = index + 1
          guard index < kinds.count, kinds[index] != .null else { return "NULL" }
          column += 1
          return "v.a\(column)"
        }
        precondition(count == kinds.count, "one kind per parameter of \(sql)")
        let into = head.trimmingCharacters(in: .whitespaces).dropLast("VALUES".count)
        return "\(into)SELECT \(expressions) FROM unnest(\(arrays)) WITH ORDINALITY AS v(\(columns), n) ORDER BY v.n"
      case .update(let table, let assignments, let key, let parameters):
        // `absorbs` let no NULL into a held UPDATE: every parameter has its array.
        precondition(parameters == typed.count && typed.count == kinds.count, "one array per parameter of \(sql)")
        return "UPDATE \(table) SET \(assignments) FROM unnest(\(arrays)) AS v(\(columns))"
          + " WHERE \(table).\(key) = v.a\(parameters)"
          + " AND \(table).\(key) = ANY(CAST(? AS \(kinds[parameters - 1].arrayType)))"
      case nil:
        preconditionFailure("not a statement that coalesces: \(sql)")
      }
    }
  }

  /// The text cached under `key`, built by `build` the first time. Statements built from
  /// variable lists are few shapes too; the bound keeps memory flat.
  private static func cached(_ key: String, _ build: () -> String) -> String {
    if let known = coalescedTexts.withLock({ $0[key] }) { return known }
    let text = build()
    coalescedTexts.withLock { cache in
      if cache.count < 4_096 { cache[key] = text }
    }
    return text
  }

  private static let coalescedTexts = Mutex<[String: String]>([:])

  /// What the rules need to know of a statement's text. The stores send a fixed set of
  /// texts, so each is read once (the hot paths send thousands a second).
  struct Shape {
    /// The table it writes, when it may be held.
    var held: (table: String, isUpdate: Bool)?
    /// How more rows of it go in one statement, when they can.
    var coalescing: Coalescing?
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
    return Shape(
      held: held, coalescing: held.flatMap { coalescing(sql, isUpdate: $0.isUpdate) }, isPlain: isPlain, words: words)
  }

  /// ``Coalescing`` of a held write's text, or nil when more rows of it cannot share one
  /// statement: an INSERT must end with its one `VALUES (…)` row (no `ON CONFLICT`, no
  /// `RETURNING`); an UPDATE must end with `WHERE <column> = ?` and hold no other condition.
  private static func coalescing(_ sql: String, isUpdate: Bool) -> Coalescing? {
    if isUpdate {
      guard
        let match = sql.wholeMatch(
          of: /(?is)\s*UPDATE\s+(\S+)\s+SET\s+(.+?)\s+WHERE\s+("?[A-Za-z_][A-Za-z0-9_]*"?)\s*=\s*\?\s*/)
      else { return nil }
      let assignments = String(match.2)
      guard !assignments.lowercased().contains("where") else { return nil }
      var count = 0
      let rewritten = assignments.replacingPlaceholders { index in
        count = index + 1
        return "v.a\(count)"
      }
      return .update(table: String(match.1), assignments: rewritten, key: String(match.3), parameters: count + 1)
    }
    guard let values = sql.firstRange(of: /(?i)\bVALUES\b/) else { return nil }
    let row = sql[values.upperBound...].trimmingCharacters(in: .whitespacesAndNewlines)
    guard row.first == "(", row.last == ")" else { return nil }
    // The first parenthesis must close at the very end: one row, nothing after it
    // (parentheses inside a quoted literal do not count).
    var depth = 0
    var quoted = false
    for (offset, character) in row.enumerated() {
      if character == "'" { quoted.toggle() }
      guard !quoted else { continue }
      if character == "(" { depth += 1 }
      if character == ")" {
        depth -= 1
        if depth == 0, offset != row.count - 1 { return nil }
      }
    }
    return .insert(head: String(sql[..<values.upperBound]) + " ", row: row)
  }

  /// `"Outbox"` → `outbox`; a schema-qualified name keeps its last part.
  private static func name(_ word: String) -> String {
    let last = word.split(separator: ".").last.map(String.init) ?? word
    return last.replacingOccurrences(of: "\"", with: "")
  }
}

extension String {
  /// The text with each `?` placeholder outside a quoted literal replaced by `replacement` of
  /// its index (0, 1, …).
  fileprivate func replacingPlaceholders(_ replacement: (Int) -> String) -> String {
    var result = ""
    var index = 0
    var quoted = false
    for character in self {
      if character == "'" { quoted.toggle() }
      if character == "?", !quoted {
        result += replacement(index)
        index += 1
      } else {
        result.append(character)
      }
    }
    return result
  }
}
