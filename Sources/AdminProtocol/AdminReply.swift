/// One line of a reply: a code and its text (never containing a line break).
public struct ReplyLine: Sendable, Hashable, CustomStringConvertible {
  public var code: ReplyCode
  public var text: String

  public init(_ code: ReplyCode, _ text: String) {
    self.code = code
    self.text = Self.singleLine(text)
  }

  /// The cells of a row or header (TAB-separated).
  public var cells: [String] { text.split(separator: "\t", omittingEmptySubsequences: false).map(String.init) }

  public var description: String { "\(code) \(text)" }

  /// `text` with CR and LF turned into spaces: a reply line must stay one line whatever a
  /// message or a stored value contains.
  static func singleLine(_ text: String) -> String {
    // Bytes, not Characters: grapheme breaking every reply line cost more than the reply.
    guard text.utf8.contains(where: { $0 == UInt8(ascii: "\n") || $0 == UInt8(ascii: "\r") }) else { return text }
    return String(text.map { $0 == "\n" || $0 == "\r" || $0 == "\r\n" ? " " : $0 })
  }

  /// `text` safe as a table cell: also without TAB, which separates cells.
  static func cell(_ text: String) -> String {
    let line = singleLine(text)
    guard line.utf8.contains(UInt8(ascii: "\t")) else { return line }
    return String(line.map { $0 == "\t" ? " " : $0 })
  }

  // MARK: Wire form

  /// `DDDD-text` when more lines follow, `DDDD text` for the last one, newline included.
  public func encoded(last: Bool) -> String {
    "\(code)\(last ? " " : "-")\(text)\n"
  }

  /// Parses one received line (without its newline). Returns nil when the line is not
  /// `DDDD-…`, `DDDD …` or a bare `DDDD` (a final line with empty text).
  public static func parse(_ line: Substring) -> (line: ReplyLine, last: Bool)? {
    // On the line's bytes in place: a client parses every reply line of every request.
    let utf8 = line.utf8
    var index = utf8.startIndex
    var value = 0
    for _ in 0..<4 {
      guard index != utf8.endIndex, (0x30...0x39).contains(utf8[index]) else { return nil }
      value = value * 10 + Int(utf8[index] - 0x30)
      index = utf8.index(after: index)
    }
    guard let code = ReplyCode(rawValue: value) else { return nil }
    guard index != utf8.endIndex else { return (ReplyLine(code, ""), true) }
    let separator = utf8[index]
    let text = String(line[utf8.index(after: index)...])
    switch separator {
    case UInt8(ascii: " "): return (ReplyLine(code, text), true)
    case UInt8(ascii: "-"): return (ReplyLine(code, text), false)
    default: return nil
    }
  }
}

/// A complete reply: zero or more data and header lines, then the final line whose code
/// is the outcome. The banner is a reply of its own (one line, code `0001`).
public struct AdminReply: Sendable, Hashable {
  /// Never empty: the last line is the outcome.
  public private(set) var lines: [ReplyLine]

  public init(lines: [ReplyLine]) {
    precondition(!lines.isEmpty, "a reply has at least its final line")
    self.lines = lines
  }

  /// A reply of one line.
  public static func final(_ code: ReplyCode, _ text: String) -> AdminReply {
    AdminReply(lines: [ReplyLine(code, text)])
  }

  /// The final line's code.
  public var code: ReplyCode { lines[lines.count - 1].code }
  /// The final line's text.
  public var text: String { lines[lines.count - 1].text }
  /// Everything before the final line.
  public var body: ArraySlice<ReplyLine> { lines.dropLast() }
  /// The texts of the `1002` lines: the JSON document of a `--json` request.
  public var json: String? {
    let parts = body.filter { $0.code == .json }.map(\.text)
    return parts.isEmpty ? nil : parts.joined(separator: "\n")
  }

  /// The bytes to send: every line but the last with `-`, the last with a space.
  public func encoded() -> String {
    var out = ""
    for (index, line) in lines.enumerated() {
      out += line.encoded(last: index == lines.count - 1)
    }
    return out
  }
}

/// Collects the lines of a reply as they are produced: header, rows, text, JSON, then
/// `finish`. Cells are cleaned of TAB and line breaks so that a stored value can never
/// break the framing.
public struct ReplyBuilder: Sendable {
  public private(set) var lines: [ReplyLine] = []

  public init() {}

  public mutating func header(_ cells: [String]) {
    lines.append(ReplyLine(.header, cells.map(ReplyLine.cell).joined(separator: "\t")))
  }

  public mutating func row(_ cells: [String]) {
    lines.append(ReplyLine(.row, cells.map(ReplyLine.cell).joined(separator: "\t")))
  }

  public mutating func text(_ text: String) {
    lines.append(ReplyLine(.text, text))
  }

  /// A JSON document; the encoder must produce it on one line (no pretty printing).
  public mutating func json(_ document: String) {
    lines.append(ReplyLine(.json, document))
  }

  public func finish(_ code: ReplyCode = .ok, _ text: String = "ok") -> AdminReply {
    AdminReply(lines: lines + [ReplyLine(code, text)])
  }
}

/// Reassembles replies from received lines, for clients.
public struct ReplyReader: Sendable {
  private var pending: [ReplyLine] = []

  public init() {}

  /// Adds one received line (without its newline). Returns the reply it completes, if any.
  /// - Throws: `malformed` when the line is not a reply line: the peer is not sagad, or
  ///   the stream is out of step, and reading on would only mislead.
  public mutating func feed(_ line: Substring) throws(Malformed) -> AdminReply? {
    let trimmed = line.last == "\r" ? line.dropLast() : line
    guard let (parsed, last) = ReplyLine.parse(trimmed) else { throw Malformed(line: String(line)) }
    pending.append(parsed)
    guard last else { return nil }
    defer { pending.removeAll() }
    return AdminReply(lines: pending)
  }

  public struct Malformed: Error, Sendable, CustomStringConvertible {
    public let line: String
    public var description: String { "not an admin protocol reply line: \(line.prefix(80))" }
  }
}
