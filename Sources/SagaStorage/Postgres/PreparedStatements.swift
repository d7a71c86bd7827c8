/// The statements one PostgreSQL connection has prepared (`PREPARE sN (types) AS …`), so that
/// a statement the stores send again runs as `EXECUTE sN($1, …)`: the server parses and plans
/// it once per connection instead of on every call (Docs/storage-engines.md, "Prepared
/// statements"). Parsing and planning were a third of the server's CPU per saga.
///
/// SQL-level PREPARE rather than the protocol's named statements: PostgresNIO names those after
/// a Swift type, while the stores' statements (and the CTEs deferred writes make of them) are
/// text; and `EXECUTE` answers with the inner statement's command tag, so affected-row counts
/// and errors reach the caller exactly as before. A utility statement such as `EXECUTE` cannot
/// take bound parameters, so the values go into its text as literals (``literal(_:)``).
///
/// A statement is keyed by its text and its parameters' types, which are the types the
/// unprepared statement declared too: `int8`, `float8`, `text`, `bytea`, and `unknown` for a
/// NULL (the server infers it from the context, as it does for an unprepared NULL).
struct PreparedStatements {
  /// How many statements one connection keeps prepared; past it, new ones run unprepared. The
  /// stores send about a hundred shapes, so it is only reached by statements built from
  /// variable lists of unusual lengths.
  static let limit = 512
  /// Statements with more parameters (chunks of variable lists) are rare per record and come in
  /// many lengths: they run unprepared rather than fill the connection's slots.
  static let maxParameters = 64

  /// How many executions a statement's first plan serves before it is prepared again; each
  /// later plan serves ``replanGrowth`` times as many, up to ``replanCeiling``.
  static let firstReplan = 16
  static let replanGrowth = 8
  static let replanCeiling = 65_536
  /// How long a statement's first plan serves at most, counted from its `PREPARE`, whatever
  /// its executions; each later plan serves twice as long, up to ``replanAgeCeiling``.
  static let firstReplanAge: Duration = .seconds(1)
  static let replanAgeCeiling: Duration = .seconds(1_024)

  private var names: [Key: Entry] = [:]
  /// Names are never reused on a connection, even after ``forgetAll()``.
  private var next = 1

  /// A statement prepared on the connection, and how long its plan has served.
  private struct Entry {
    var name: String
    var executions = 0
    /// How many times it was prepared before (0 for the first).
    var generation = 0
    var preparedAt: ContinuousClock.Instant

    /// Whether its plan has served its share: PostgreSQL makes a prepared statement's generic
    /// plan once, from its tables' sizes at that moment, and keeps it until a table is next
    /// analyzed. The stores' tables start empty and grow by thousands of rows a second, so a
    /// plan made in the first second (a sequential scan of a table that was one page then)
    /// would read the whole table on every execution until autovacuum's first analysis, a
    /// minute or more later. Prepared again after 16, 128, 1,024, … executions, every plan is
    /// made from sizes at most eight times older than its predecessor's, at the cost of a few
    /// dozen `PREPARE`s per statement in a connection's life.
    ///
    /// Counted in executions alone, a plan made in a table's first second could serve for
    /// seconds more while the table grew tenfold: a batch's `UPDATE payments … FROM unnest(…)`
    /// planned at a few hundred rows hashed the whole table, 1–3.5 ms a row, until its next
    /// `PREPARE` (Docs/benchmarks.md, "2026-12-06 (afternoon)"). So a plan is also due after
    /// 1 s, the next after 2 s, 4 s, … up to ``replanAgeCeiling``: under a steady load a plan
    /// made in a table's first seconds gives way to one made on about twice its rows, and a
    /// service that has run for a while prepares each statement again every 17 minutes.
    func isDue(at now: ContinuousClock.Instant) -> Bool {
      var serves = PreparedStatements.firstReplan
      var age = PreparedStatements.firstReplanAge
      // Both reach their ceilings within ten generations; a service's statements pass a
      // thousand over months, and this runs for every execution.
      for _ in 0..<min(generation, 10) {
        serves = min(serves * PreparedStatements.replanGrowth, PreparedStatements.replanCeiling)
        age = min(age * 2, PreparedStatements.replanAgeCeiling)
      }
      return executions >= serves || now - preparedAt >= age
    }
  }

  private struct Key: Hashable {
    var sql: String
    var types: [Kind]
  }

  enum Kind: UInt8, Hashable {
    case null, integer, real, text, blob

    init(_ value: SQLValue) {
      switch value {
      case .null: self = .null
      case .integer: self = .integer
      case .real: self = .real
      case .text: self = .text
      case .blob: self = .blob
      }
    }

    /// The array type of values of this kind (``ColumnArrays``; `.null` never types one).
    var arrayType: String {
      switch self {
      case .null: "TEXT[]"
      case .integer: "BIGINT[]"
      case .real: "FLOAT8[]"
      case .text: "TEXT[]"
      case .blob: "BYTEA[]"
      }
    }

    var typeName: String {
      switch self {
      case .null: "unknown"
      case .integer: "int8"
      case .real: "float8"
      case .text: "text"
      case .blob: "bytea"
      }
    }
  }

  /// How to run `sql` (already numbered, `$n`) with values of these types: the name of its
  /// prepared statement and, the first time and whenever its plan is due again
  /// (``Entry/isDue(at:)``), the `PREPARE` to send first (to be recorded with
  /// ``prepared(_:values:name:at:)`` when sent), with the name it replaces, to be
  /// deallocated. Nil when it is not worth preparing (not a plain statement, many parameters,
  /// or the connection holds ``limit`` already). Counts the execution.
  mutating func plan(
    _ sql: String, _ values: [SQLValue], at now: ContinuousClock.Instant = .now
  ) -> (name: String, prepare: String?, replaces: String?)? {
    guard values.count <= Self.maxParameters, Self.isPreparable(sql) else { return nil }
    let key = Key(sql: sql, types: values.map(Kind.init))
    var replaces: String?
    if let entry = names[key] {
      guard entry.isDue(at: now) else {
        names[key]?.executions += 1
        return (entry.name, nil, nil)
      }
      replaces = entry.name
    } else if names.count >= Self.limit {
      return nil
    }
    let name = "s\(next)"
    let types = key.types.isEmpty ? "" : " (" + key.types.map(\.typeName).joined(separator: ", ") + ")"
    return (name, "PREPARE \(name)\(types) AS \(sql)", replaces)
  }

  /// Records that `name` is prepared on the connection for `sql` with these values' types (and
  /// that the name it replaced, if any, is deallocated), and counts the execution it is for.
  mutating func prepared(_ sql: String, values: [SQLValue], name: String, at now: ContinuousClock.Instant = .now) {
    let key = Key(sql: sql, types: values.map(Kind.init))
    let generation = names[key].map { $0.generation + 1 } ?? 0
    names[key] = Entry(name: name, executions: 1, generation: generation, preparedAt: now)
    next += 1
  }

  /// Its `PREPARE` failed: `name` does not exist on the server (unless the statement was
  /// prepared again since, under another name).
  mutating func unprepared(_ sql: String, values: [SQLValue], name: String) {
    let key = Key(sql: sql, types: values.map(Kind.init))
    if names[key]?.name == name { names[key] = nil }
  }

  /// The server no longer knows them (a pooler between us ran `DISCARD ALL`): prepare anew.
  mutating func forgetAll() { names = [:] }

  var count: Int { names.count }

  /// `EXECUTE name(values…)`, the values as literals. Built as bytes in one buffer: the
  /// statement carries every value of a saga step (payloads as hex), thousands a second.
  static func execute(_ name: String, _ values: [SQLValue]) -> String {
    guard !values.isEmpty else { return "EXECUTE \(name)" }
    var text: [UInt8] = []
    text.reserveCapacity(name.utf8.count + 10 + values.reduce(0) { $0 + estimatedLength($1) })
    text.append(contentsOf: "EXECUTE ".utf8)
    text.append(contentsOf: name.utf8)
    text.append(UInt8(ascii: "("))
    for (index, value) in values.enumerated() {
      if index > 0 { text.append(contentsOf: ", ".utf8) }
      appendLiteral(value, to: &text)
    }
    text.append(UInt8(ascii: ")"))
    return String(decoding: text, as: UTF8.self)
  }

  /// A value as an SQL literal the server coerces to the declared parameter type. Strings are
  /// quoted by doubling `'`, which is all a literal needs with `standard_conforming_strings`
  /// on (the connection sets it, so a server configured otherwise cannot change the meaning).
  static func literal(_ value: SQLValue) -> String {
    var text: [UInt8] = []
    appendLiteral(value, to: &text)
    return String(decoding: text, as: UTF8.self)
  }

  private static func appendLiteral(_ value: SQLValue, to text: inout [UInt8]) {
    let quote = UInt8(ascii: "'")
    switch value {
    case .null:
      text.append(contentsOf: "NULL".utf8)
    case .integer(let number):
      appendDecimal(number, to: &text)
    case .real(let number):
      if number.isNaN {
        text.append(contentsOf: "'NaN'".utf8)
      } else if number.isInfinite {
        text.append(contentsOf: (number > 0 ? "'Infinity'" : "'-Infinity'").utf8)
      } else {
        text.append(contentsOf: "\(number)".utf8)
      }
    case .text(let string):
      text.append(quote)
      for byte in string.utf8 {
        if byte == quote { text.append(quote) }
        text.append(byte)
      }
      text.append(quote)
    case .blob(let bytes):
      text.append(contentsOf: "'\\x".utf8)
      appendHex(bytes, to: &text)
      text.append(quote)
    }
  }

  /// `bytes` as lowercase hex digits, as bytea's `\x` input takes them.
  static func appendHex(_ bytes: [UInt8], to text: inout [UInt8]) {
    for byte in bytes {
      text.append(hexDigits[Int(byte >> 4)])
      text.append(hexDigits[Int(byte & 15)])
    }
  }

  private static let hexDigits = Array("0123456789abcdef".utf8)

  /// Base-10 digits without a String of their own (an id of 16 or more digits is past what a
  /// String stores inline, and would cost an allocation).
  static func appendDecimal(_ number: Int64, to text: inout [UInt8]) {
    if number < 0 { text.append(UInt8(ascii: "-")) }
    var magnitude = number.magnitude
    var scratch: (UInt64, UInt64, UInt64) = (0, 0, 0)  // 24 bytes: Int64.min has 19 digits
    withUnsafeMutableBytes(of: &scratch) { digits in
      var index = digits.count
      repeat {
        index -= 1
        digits[index] = UInt8(ascii: "0") + UInt8(magnitude % 10)
        magnitude /= 10
      } while magnitude > 0
      text.append(contentsOf: digits[index...])
    }
  }

  private static func estimatedLength(_ value: SQLValue) -> Int {
    switch value {
    case .null: 4
    case .integer: 20
    case .real: 24
    case .text(let string): string.utf8.count + 2
    case .blob(let bytes): bytes.count * 2 + 4
    }
  }

  /// Only what PREPARE takes: SELECT, INSERT, UPDATE, DELETE, and WITH in front of one.
  private static func isPreparable(_ sql: String) -> Bool {
    let first = sql.utf8.prefix(while: { $0 != 32 && $0 != 10 && $0 != 9 && $0 != 13 })
    guard first.count >= 4, first.count <= 6 else { return false }
    switch String(decoding: first, as: UTF8.self).lowercased() {
    case "select", "insert", "update", "delete", "with": return true
    default: return false
    }
  }
}
