/// Reads and validates one event body's fields, turning every decoding problem into a
/// permanent `SagaError` that names the event and the field. Foundation's own errors are
/// not good enough for a DLT reason: a fraction or an out-of-range integer surfaces as
/// "The given data was not valid JSON" without a field name.
struct EventFieldReader<Key: CodingKey> {
  let event: EventType
  private let container: KeyedDecodingContainer<Key>

  /// Opens the body as a JSON object; anything else (array, string, number) is `invalid-json`.
  init(_ decoder: any Decoder, keyedBy: Key.Type, event: EventType) throws(SagaError) {
    self.event = event
    do {
      container = try decoder.container(keyedBy: Key.self)
    } catch {
      throw SagaError(.invalidJSON, "\(event) body is not a JSON object", failureClass: .permanent)
    }
  }

  /// The body's `eventVersion`: absent or null means 1.0; a string or a number is parsed;
  /// any major other than 1 is `unsupported-version`.
  func version(_ key: Key) throws(SagaError) -> EventVersion {
    guard isPresent(key) else { return .current }
    let text: String
    if let string = try? container.decode(String.self, forKey: key) {
      text = string
    } else if let number = try? container.decode(Double.self, forKey: key) {
      text = EventVersion.text(ofNumber: number)
    } else {
      throw error(.wrongType, key, "must be a version string such as \"1.0\"")
    }
    guard let version = EventVersion(text) else {
      throw error(.invalidValue, key, "must be major.minor such as \"1.0\", got \(text.debugDescription)")
    }
    guard version.isSupported else {
      throw error(
        .unsupportedVersion, key,
        "is \(version), but sagad reads only \(EventVersion.supportedMajor).x; upgrade sagad or route the event elsewhere"
      )
    }
    return version
  }

  /// A required id: an integer greater than zero.
  func id(_ key: Key) throws(SagaError) -> Int64 {
    try positive(key, integer(key))
  }

  /// An optional id: absent or null is nil, otherwise an integer greater than zero.
  func optionalID(_ key: Key) throws(SagaError) -> Int64? {
    guard isPresent(key) else { return nil }
    return try id(key)
  }

  /// True when the key is there with a non-null value.
  private func isPresent(_ key: Key) -> Bool {
    container.contains(key) && !((try? container.decodeNil(forKey: key)) ?? false)
  }

  /// A KRW amount: an integer, zero or more. A Java peer's `Long` 0 is a valid payment
  /// (its reward is 0) even though sagad's own Payments never takes one.
  func amount(_ key: Key) throws(SagaError) -> Int64 {
    let value = try integer(key)
    guard value >= 0 else { throw error(.invalidValue, key, "must not be negative, got \(value)") }
    return value
  }

  /// A required string (may be empty).
  func text(_ key: Key) throws(SagaError) -> String {
    try decode(String.self, key, expected: "a string")
  }

  /// A string that must be there but may be null: Jackson writes `"reason": null` for a
  /// Java exception without a message. Absent is still `missing-field`.
  func nullableText(_ key: Key) throws(SagaError) -> String? {
    guard container.contains(key) else { throw error(.missingField, key, "is missing") }
    guard isPresent(key) else { return nil }
    return try text(key)
  }

  private func integer(_ key: Key) throws(SagaError) -> Int64 {
    try decode(Int64.self, key, expected: "an integer between \(Int64.min) and \(Int64.max)")
  }

  private func positive(_ key: Key, _ value: Int64) throws(SagaError) -> Int64 {
    guard value > 0 else { throw error(.invalidValue, key, "must be greater than 0, got \(value)") }
    return value
  }

  private func decode<T: Decodable>(_ type: T.Type, _ key: Key, expected: String) throws(SagaError) -> T {
    do {
      return try container.decode(T.self, forKey: key)
    } catch DecodingError.keyNotFound {
      throw error(.missingField, key, "is missing")
    } catch DecodingError.valueNotFound {
      throw error(.missingField, key, "is null")
    } catch DecodingError.typeMismatch(_, let context) {
      throw error(.wrongType, key, "must be \(expected): \(Self.excerpt(context.debugDescription))")
    } catch {
      // Foundation reports fractions and out-of-range numbers with its own error type,
      // quoting the number: a 200,000-digit one must not become a 200,000-character log line.
      throw self.error(.wrongType, key, "must be \(expected): \(Self.excerpt("\(error)"))")
    }
  }

  /// The start of a text that came from the message, bounded for logs and dead-letter reasons.
  static func excerpt(_ text: String, limit: Int = 200) -> String {
    guard text.count > limit else { return text }
    return String(text.prefix(limit)) + "… (\(text.utf8.count) bytes)"
  }

  private func error(_ code: SagaError.Code, _ key: Key, _ problem: String) -> SagaError {
    SagaError(code, "\(event).\(key.stringValue) \(problem)", field: key.stringValue, failureClass: .permanent)
  }
}
