import Foundation

/// Finds the metric names a PromQL expression reads, for checking that every name a rule
/// or a dashboard panel uses exists in a live scrape. A small scanner rather than a PromQL
/// parser: it drops strings, label matchers, ranges, `by (…)`-style label lists, Grafana
/// variables and `label_values`' label argument, then keeps the identifiers that are not
/// followed by `(` (functions, aggregations) and are not keywords. Recording-rule names
/// (with a `:`) and the series Prometheus makes itself (`up`, `ALERTS`, `scrape_*`) are left out.
enum MetricNameScanner {
  static let keywords: Set<String> = [
    "by", "without", "on", "ignoring", "group_left", "group_right", "and", "or", "unless", "bool", "offset", "inf",
    "nan", "Inf", "NaN",
  ]
  static let synthetic: Set<String> = ["up", "ALERTS", "ALERTS_FOR_STATE"]

  static func names(in expression: String) -> Set<String> {
    var text = expression
    let removals = [
      #""(?:[^"\\]|\\.)*""#, #"'(?:[^'\\]|\\.)*'"#, #"`[^`]*`"#,  // strings
      #"\$\{[^}]*\}"#, #"\$[A-Za-z_][A-Za-z0-9_]*"#,  // Grafana variables
      #"\{[^}]*\}"#, #"\[[^\]]*\]"#,  // label matchers, ranges and subqueries
      #"\b(?:by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)"#,
    ]
    for pattern in removals {
      text = text.replacingOccurrences(of: pattern, with: " ", options: .regularExpression)
    }
    // label_values(metric, label): only the metric is one.
    text = text.replacingOccurrences(
      of: #"label_values\s*\(\s*([A-Za-z_:][A-Za-z0-9_:]*)\s*,\s*[A-Za-z_][A-Za-z0-9_]*\s*\)"#, with: " $1 ",
      options: .regularExpression)
    var names: Set<String> = []
    let identifier = try! NSRegularExpression(pattern: #"(?<![A-Za-z0-9_:.])([A-Za-z_:][A-Za-z0-9_:]*)(\s*\()?"#)
    let range = NSRange(text.startIndex..., in: text)
    for match in identifier.matches(in: text, range: range) {
      guard match.range(at: 2).location == NSNotFound, let name = Range(match.range(at: 1), in: text) else {
        continue
      }
      let token = String(text[name])
      guard !keywords.contains(token), !synthetic.contains(token), !token.contains(":"),
        !token.hasPrefix("scrape_")
      else { continue }
      names.insert(token)
    }
    return names
  }

  /// The `expr:` values of a Prometheus rules file, single-line or block scalars.
  static func ruleExpressions(inYAML text: String) -> [String] {
    let lines = text.components(separatedBy: "\n")
    var expressions: [String] = []
    var index = 0
    while index < lines.count {
      let line = lines[index]
      index += 1
      guard let range = line.range(of: #"^\s*(?:-\s*)?expr:\s*"#, options: .regularExpression) else { continue }
      let value = line[range.upperBound...].trimmingCharacters(in: .whitespaces)
      guard value.hasPrefix("|") || value.hasPrefix(">") || value.isEmpty else {
        expressions.append(unquoted(value))
        continue
      }
      let indent = line.prefix { $0 == " " }.count
      var block: [String] = []
      while index < lines.count {
        let next = lines[index]
        let nextIndent = next.prefix { $0 == " " }.count
        if !next.trimmingCharacters(in: .whitespaces).isEmpty && nextIndent <= indent { break }
        block.append(next)
        index += 1
      }
      expressions.append(block.joined(separator: "\n"))
    }
    return expressions
  }

  /// A YAML flow scalar without its quotes.
  private static func unquoted(_ value: String) -> String {
    guard value.count >= 2, let first = value.first, first == value.last, first == "'" || first == "\"" else {
      return value
    }
    let inner = String(value.dropFirst().dropLast())
    return first == "'"
      ? inner.replacingOccurrences(of: "''", with: "'")
      : inner.replacingOccurrences(of: #"\""#, with: "\"").replacingOccurrences(of: #"\\"#, with: "\\")
  }

  /// The label values an expression selects exactly: `name{label="value"}` and the plain
  /// alternatives of `label=~"a|b"` (Grafana variables and real regexes are skipped).
  static func matchers(in expression: String) -> [(metric: String, label: String, value: String)] {
    let selector = try! NSRegularExpression(pattern: #"([A-Za-z_][A-Za-z0-9_]*)\s*\{([^}]*)\}"#)
    let matcher = try! NSRegularExpression(pattern: #"([A-Za-z_][A-Za-z0-9_]*)\s*(=~|=)\s*"([^"]*)""#)
    var found: [(String, String, String)] = []
    let whole = NSRange(expression.startIndex..., in: expression)
    for match in selector.matches(in: expression, range: whole) {
      guard let name = Range(match.range(at: 1), in: expression), let body = Range(match.range(at: 2), in: expression)
      else { continue }
      let metric = String(expression[name])
      let text = String(expression[body])
      for label in matcher.matches(in: text, range: NSRange(text.startIndex..., in: text)) {
        guard let key = Range(label.range(at: 1), in: text), let op = Range(label.range(at: 2), in: text),
          let value = Range(label.range(at: 3), in: text)
        else { continue }
        let raw = String(text[value])
        if text[op] == "=" {
          if !raw.contains("$") { found.append((metric, String(text[key]), raw)) }
        } else if raw.allSatisfy({ $0.isLetter || $0.isNumber || "_-|".contains($0) }) {
          for alternative in raw.split(separator: "|") {
            found.append((metric, String(text[key]), String(alternative)))
          }
        }
      }
    }
    return found
  }

  /// Every PromQL string of a Grafana dashboard: panel targets' `expr` and variables' `query`.
  static func dashboardExpressions(_ json: Any) -> [String] {
    var found: [String] = []
    func walk(_ value: Any) {
      if let object = value as? [String: Any] {
        // A datasource variable's query is a plugin type ("prometheus"), not PromQL.
        let isDatasource = object["type"] as? String == "datasource"
        for (key, child) in object where !(isDatasource && key == "query") {
          if key == "expr" || key == "query", let text = child as? String {
            found.append(text)
          } else {
            walk(child)
          }
        }
      } else if let array = value as? [Any] {
        array.forEach(walk)
      }
    }
    walk(json)
    return found
  }

  /// Metric names in a scrape: every sample's name and every `# TYPE` family.
  static func scrapedNames(_ scrape: String) -> Set<String> {
    var names: Set<String> = []
    for line in scrape.split(separator: "\n") {
      if line.hasPrefix("# TYPE ") {
        let parts = line.split(separator: " ")
        if parts.count >= 3 { names.insert(String(parts[2])) }
      } else if !line.hasPrefix("#") {
        names.insert(String(line.prefix { $0 != "{" && $0 != " " }))
      }
    }
    return names
  }
}
