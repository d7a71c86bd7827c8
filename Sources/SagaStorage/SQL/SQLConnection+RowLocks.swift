extension SQLConnection {
  /// Locks the rows of `table` whose integer `column` is one of `keys` until the transaction
  /// ends, in ascending key order (PostgreSQL; SQLite's single writer needs no row locks).
  /// Transactions that lock shared rows this way before touching them wait for each other
  /// instead of deadlocking, which PostgreSQL breaks only after `deadlock_timeout` (a second by
  /// default) by failing one (Docs/storage-engines.md, "Several instances per role"). Fewer
  /// than two distinct keys cannot deadlock: nothing is sent. The lock goes unanswered in
  /// front of the transaction's next statement (``SQLConnection/sendUnanswered(_:_:)``), which
  /// reports its failure: one round trip less for a `pay` group and a consume batch.
  public func lockInKeyOrder(table: String, column: String, keys: some Sequence<Int64>) throws {
    let sorted = Set(keys).sorted()
    guard engine == .postgres, sorted.count > 1 else { return }
    try sendUnanswered(
      "SELECT \(column) FROM \(table) WHERE \(column) = ANY(CAST(? AS BIGINT[])) ORDER BY \(column) FOR UPDATE",
      [sorted.bigintArrayLiteral])
  }
}

extension Sequence<Int64> {
  /// The numbers as one PostgreSQL array literal (`{1,2,3}`), bound as a single text value and
  /// cast with `CAST(? AS BIGINT[])`: one statement text whatever the count.
  public var bigintArrayLiteral: String { "{" + map(String.init).joined(separator: ",") + "}" }

  /// The numbers as one JSON array (`[1,2,3]`), SQLite's counterpart: bound as text and read
  /// with `SELECT value FROM json_each(?)`; also how a column keeps a list of ids.
  public var jsonArrayLiteral: String { "[" + map(String.init).joined(separator: ",") + "]" }
}

extension Sequence<String> {
  /// The strings as one PostgreSQL array literal (`{"a","b"}`), bound as a single text value
  /// and cast with `CAST(? AS TEXT[])`: one statement text whatever the count.
  public var textArrayLiteral: String { map(Optional.some).textArrayLiteral }
}

extension Sequence<String?> {
  /// ``Swift/Sequence/textArrayLiteral`` with `NULL` elements for the nils.
  public var textArrayLiteral: String {
    var text: [UInt8] = [UInt8(ascii: "{")]
    for (index, string) in enumerated() {
      if index > 0 { text.append(UInt8(ascii: ",")) }
      ColumnArrays.appendElement(string.map(SQLValue.text) ?? .null, to: &text)
    }
    text.append(UInt8(ascii: "}"))
    return String(decoding: text, as: UTF8.self)
  }
}
