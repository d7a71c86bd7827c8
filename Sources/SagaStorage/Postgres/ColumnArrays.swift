/// The arguments of several rows of one statement as one array per parameter, each an array
/// literal (`{1,2,3}`, `{"a","b"}`): what a coalesced write takes through `unnest`
/// (``DeferredWrites/unnested(_:kinds:)``), so that its text does not change with the number of
/// rows and is prepared once per connection, where a multi-row `VALUES` was a new statement for
/// each row count (and, past 64 parameters, parsed and planned on every execution).
///
/// An array has one element type, so a parameter whose rows hold values of different kinds has
/// none, and the rows then go as `VALUES`. A parameter NULL in every row needs no array (nothing
/// would tell its type): the statement writes `NULL` in its place.
struct ColumnArrays: Equatable {
  /// Each parameter's element kind; `.null`: NULL in every row, no array.
  let kinds: [PreparedStatements.Kind]
  /// The array literal of each parameter that has one, in parameter order, as text the
  /// statement casts to its array type.
  let literals: [SQLValue]

  /// - Parameters:
  ///   - arguments: the rows' arguments, row after row.
  ///   - rows: how many rows they are.
  init?(_ arguments: [SQLValue], rows: Int) {
    guard rows > 0, !arguments.isEmpty, arguments.count % rows == 0 else { return nil }
    let width = arguments.count / rows
    var kinds: [PreparedStatements.Kind] = []
    var literals: [SQLValue] = []
    kinds.reserveCapacity(width)
    literals.reserveCapacity(width)
    for parameter in 0..<width {
      var kind: PreparedStatements.Kind?
      for value in stride(from: parameter, to: arguments.count, by: width).lazy.map({ arguments[$0] }) {
        let next = PreparedStatements.Kind(value)
        guard next != .null else { continue }
        guard kind == nil || kind == next else { return nil }
        kind = next
      }
      guard let kind else {
        kinds.append(.null)
        continue
      }
      var text: [UInt8] = [UInt8(ascii: "{")]
      for row in 0..<rows {
        if row > 0 { text.append(UInt8(ascii: ",")) }
        Self.appendElement(arguments[row * width + parameter], to: &text)
      }
      text.append(UInt8(ascii: "}"))
      kinds.append(kind)
      literals.append(.text(String(decoding: text, as: UTF8.self)))
    }
    guard !literals.isEmpty else { return nil }
    self.kinds = kinds
    self.literals = literals
  }

  /// One element of an array literal: numbers bare, text and bytes double-quoted with `"` and
  /// `\` escaped by a backslash (bytes as `\x` and hex, the backslash itself escaped).
  static func appendElement(_ value: SQLValue, to text: inout [UInt8]) {
    let quote = UInt8(ascii: "\"")
    let backslash = UInt8(ascii: "\\")
    switch value {
    case .null:
      text.append(contentsOf: "NULL".utf8)
    case .integer(let number):
      PreparedStatements.appendDecimal(number, to: &text)
    case .real(let number):
      // NaN and ±Infinity are spelled as float8's input takes them; `description` gives `inf`.
      let spelled =
        number.isNaN ? "NaN" : number.isInfinite ? (number > 0 ? "Infinity" : "-Infinity") : "\(number)"
      text.append(contentsOf: spelled.utf8)
    case .text(let string):
      text.append(quote)
      for byte in string.utf8 {
        if byte == quote || byte == backslash { text.append(backslash) }
        text.append(byte)
      }
      text.append(quote)
    case .blob(let bytes):
      text.append(contentsOf: #""\\x"#.utf8)
      PreparedStatements.appendHex(bytes, to: &text)
      text.append(quote)
    }
  }
}
