/// One word of a request line, with what its quoting says about it: shell rules, so a
/// quoted `--x` or `a=b` is plain text, which is how a client passes such values safely.
public struct RequestWord: Sendable, Hashable {
  public var text: String
  /// True when the word starts with an unquoted `--`.
  public var isOption: Bool
  /// For `key=value` with the key and the `=` unquoted: the key (lower-case letters,
  /// digits, `-` and `_`, starting with a letter).
  public var key: String?
  /// The part after the first unquoted `=`, when `key` is set.
  public var value: String?

  public init(text: String, isOption: Bool = false, key: String? = nil, value: String? = nil) {
    self.text = text
    self.isOption = isOption
    self.key = key
    self.value = value
  }
}

/// Turning a received line into words, and words back into a line (for clients).
public enum RequestLine {
  /// The text of a received line (its bytes before the newline).
  /// - Throws: `9002` when longer than the limit, `9004` for invalid UTF-8 or control
  ///   characters (TAB aside): binary noise gets a coded answer, never a crash.
  public static func decode(_ bytes: some Collection<UInt8>) throws(AdminProtocolError) -> String {
    var bytes = Array(bytes)
    if bytes.last == UInt8(ascii: "\r") { bytes.removeLast() }
    guard bytes.count <= AdminProtocol.maximumLineLength else {
      throw AdminProtocolError(
        .lineTooLong, "request line of \(bytes.count) bytes; the limit is \(AdminProtocol.maximumLineLength)")
    }
    guard let text = String(validating: bytes, as: UTF8.self) else {
      throw AdminProtocolError(.badEncoding, "the request line is not valid UTF-8")
    }
    if let bad = text.unicodeScalars.first(where: { ($0.value < 0x20 && $0 != "\t") || $0.value == 0x7F }) {
      throw AdminProtocolError(.badEncoding, "control character U+\(hex(bad.value)) in the request line")
    }
    return text
  }

  /// Splits `line` into words: blanks (space, TAB) separate; `'…'` keeps everything
  /// literally; `"…"` keeps everything but lets `\` escape `"`, `\`, `$` and `` ` ``;
  /// outside quotes `\` escapes any character. Adjacent parts join into one word
  /// (`a'b c'` is `ab c`).
  /// - Throws: `9003` for an unterminated quote or a trailing backslash.
  public static func words(_ line: String) throws(AdminProtocolError) -> [RequestWord] {
    if let plain = plainWords(line) { return plain }
    return try scalarWords(line)
  }

  /// ``words(_:)`` for any line, one scalar at a time.
  static func scalarWords(_ line: String) throws(AdminProtocolError) -> [RequestWord] {
    // Scalars, not Characters: a combining mark after a quote must not hide the quote
    // inside one grapheme.
    let chars = Array(line.unicodeScalars)
    var words: [RequestWord] = []
    // The word being built, each scalar with whether it was quoted; nil between words.
    var current: [(Unicode.Scalar, Bool)]?
    var index = 0
    while index < chars.count {
      let char = chars[index]
      switch char {
      case " ", "\t":
        if let word = current { words.append(make(word)) }
        current = nil
        index += 1
      case "'":
        guard let end = chars[(index + 1)...].firstIndex(of: "'") else {
          throw AdminProtocolError(.badQuoting, "unterminated single quote at character \(index + 1)")
        }
        current = (current ?? []) + chars[(index + 1)..<end].map { ($0, true) }
        index = end + 1
      case "\"":
        var word = current ?? []
        var cursor = index + 1
        while true {
          guard cursor < chars.count else {
            throw AdminProtocolError(.badQuoting, "unterminated double quote at character \(index + 1)")
          }
          let inner = chars[cursor]
          if inner == "\"" { break }
          if inner == "\\", cursor + 1 < chars.count, "\"\\$`".unicodeScalars.contains(chars[cursor + 1]) {
            word.append((chars[cursor + 1], true))
            cursor += 2
          } else {
            word.append((inner, true))
            cursor += 1
          }
        }
        current = word
        index = cursor + 1
      case "\\":
        guard index + 1 < chars.count else {
          throw AdminProtocolError(.badQuoting, "a backslash at the end of the line escapes nothing")
        }
        current = (current ?? []) + [(chars[index + 1], true)]
        index += 2
      default:
        current = (current ?? []) + [(char, false)]
        index += 1
      }
    }
    if let word = current { words.append(make(word)) }
    return words
  }

  /// `word` quoted so that `words(_:)` returns it unchanged as one plain word: bare when
  /// it is made of characters with no meaning to the parser, else in single quotes.
  public static func quote(_ word: String) -> String {
    let safe =
      !word.isEmpty && !word.hasPrefix("--")
      && (word.utf8.allSatisfy(isSafeASCII)
        || word.unicodeScalars.allSatisfy {
          $0.properties.isAlphabetic || ("0"..."9").contains($0) || "@%+:,./_-".unicodeScalars.contains($0)
        })
    if safe { return word }
    return "'" + word.replacing("'", with: "'\\''") + "'"
  }

  /// The ASCII bytes ``quote(_:)`` leaves bare, checked before Unicode's properties: a
  /// client quotes every value of every request (`sagactl load`: thousands a second), and
  /// looking up a scalar's properties cost more than sending the request.
  private static func isSafeASCII(_ byte: UInt8) -> Bool {
    switch byte {
    case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
      UInt8(ascii: "0")...UInt8(ascii: "9"):
      return true
    case UInt8(ascii: "@"), UInt8(ascii: "%"), UInt8(ascii: "+"), UInt8(ascii: ":"), UInt8(ascii: ","),
      UInt8(ascii: "."), UInt8(ascii: "/"), UInt8(ascii: "_"), UInt8(ascii: "-"):
      return true
    default:
      return false
    }
  }

  /// The words of a line with nothing quoted or escaped, as ``words(_:)`` reads it, split on
  /// its bytes; nil when the line holds a quote or a backslash. Most lines (every `pay`) are
  /// like that, and building a scalar array per word cost more than handling the request.
  static func plainWords(_ line: String) -> [RequestWord]? {
    let utf8 = line.utf8
    guard !utf8.contains(where: { $0 == UInt8(ascii: "'") || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") })
    else { return nil }
    // Bytes, not Characters: a combining mark after a blank or `=` must not hide it in a
    // grapheme (the scalar path splits there too).
    return utf8.split(whereSeparator: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") }).map { part in
      let text = String(decoding: part, as: UTF8.self)
      if part.starts(with: "--".utf8) { return RequestWord(text: text, isOption: true) }
      guard let equals = part.firstIndex(of: UInt8(ascii: "=")), equals > part.startIndex else {
        return RequestWord(text: text)
      }
      let key = String(decoding: part[..<equals], as: UTF8.self)
      guard isKey(key) else { return RequestWord(text: text) }
      return RequestWord(
        text: text, key: key, value: String(decoding: part[part.index(after: equals)...], as: UTF8.self))
    }
  }

  private static func make(_ chars: [(Unicode.Scalar, Bool)]) -> RequestWord {
    let text = string(chars.map(\.0))
    let isOption = chars.count >= 2 && chars[0] == ("-", false) && chars[1] == ("-", false)
    guard !isOption, let equals = chars.firstIndex(where: { $0 == ("=", false) }), equals > 0,
      chars[..<equals].allSatisfy({ !$0.1 })
    else { return RequestWord(text: text, isOption: isOption) }
    let key = string(chars[..<equals].map(\.0))
    guard isKey(key) else { return RequestWord(text: text) }
    return RequestWord(text: text, key: key, value: string(chars[(equals + 1)...].map(\.0)))
  }

  private static func string(_ scalars: some Sequence<Unicode.Scalar>) -> String {
    var view = String.UnicodeScalarView()
    view.append(contentsOf: scalars)
    return String(view)
  }

  /// A parameter name: `[a-z][a-z0-9_-]*`.
  static func isKey(_ text: String) -> Bool {
    guard let first = text.unicodeScalars.first, ("a"..."z").contains(first) else { return false }
    return text.unicodeScalars.allSatisfy {
      ("a"..."z").contains($0) || ("0"..."9").contains($0) || $0 == "-" || $0 == "_"
    }
  }

  private static func hex(_ value: UInt32) -> String {
    let digits = String(value, radix: 16, uppercase: true)
    return String(repeating: "0", count: max(0, 4 - digits.count)) + digits
  }
}
