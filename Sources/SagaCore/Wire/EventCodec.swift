import Foundation

/// Turns events into message bodies and back. Decoding never traps and never lets a
/// Foundation error escape: every failure is a permanent `SagaError` (`invalid-json`,
/// `missing-field`, `wrong-type`, `invalid-value`, `unsupported-version`) whose message
/// names the event and field, because the runtime dead-letters it with that reason and
/// moves on (Docs/event-catalog.md: never crash, never stall, never retry what cannot parse).
public enum EventCodec {
  /// Compact JSON with keys in sorted order: identical events give identical bytes, which
  /// keeps re-announced and replayed messages byte-comparable.
  public static func encode<E: SagaEvent>(_ event: E) -> [UInt8] {
    // Every emitted event comes through here; the hand-written writer gives the same bytes.
    if let bytes = FlatJSONEncoder.encode(event) { return bytes }
    let encoder = JSONEncoder()
    encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
    do {
      return Array(try encoder.encode(event))
    } catch {
      // Events hold only integers and strings, which JSONEncoder always encodes.
      preconditionFailure("encoding \(E.eventType) failed: \(error)")
    }
  }

  /// Decodes and validates a body. Unknown extra fields are ignored; a missing
  /// `eventVersion` means 1.0. The whole body must be UTF-8 (JSON requires it, and
  /// Foundation's lazy parser would otherwise let bad bytes through in skipped fields).
  public static func decode<E: SagaEvent>(_ type: E.Type, from bytes: [UInt8]) throws(SagaError) -> E {
    guard String(validating: bytes, as: UTF8.self) != nil else {
      throw SagaError(
        .invalidJSON, "\(E.eventType) body is not valid UTF-8 (\(bytes.count) bytes: \(preview(bytes)))",
        failureClass: .permanent)
    }
    // Every consumed event comes through here. The hand-written reader accepts a subset
    // of what JSONDecoder does, with the same result; anything else, including every
    // invalid body, goes to JSONDecoder so the error is the one it always was.
    if let event = FlatJSONDecoder.decode(E.self, from: bytes) { return event }
    // JSON text has no byte-order mark (RFC 8259 §8.1); Foundation would skip it, others refuse it.
    if bytes.starts(with: [0xEF, 0xBB, 0xBF]) {
      throw SagaError(
        .invalidJSON, "\(E.eventType) body starts with a byte-order mark (\(bytes.count) bytes: \(preview(bytes)))",
        failureClass: .permanent)
    }
    if let key = JSONDuplicateKeys.first(in: bytes) {
      throw SagaError(
        .invalidJSON,
        "\(E.eventType) body has the key \(preview(Array(key.utf8)).dropFirst().dropLast()) twice;"
          + " readers disagree on which value counts (\(bytes.count) bytes: \(preview(bytes)))",
        failureClass: .permanent)
    }
    do {
      return try JSONDecoder().decode(E.self, from: Data(bytes))
    } catch let error as SagaError {
      throw error
    } catch {
      throw SagaError(
        .invalidJSON, "\(E.eventType) body is not valid JSON (\(bytes.count) bytes: \(preview(bytes)))",
        failureClass: .permanent)
    }
  }

  /// The start of a body, printable, for error messages: enough to recognise it in a log.
  static func preview(_ bytes: [UInt8], limit: Int = 64) -> String {
    let text = String(decoding: bytes.prefix(limit), as: UTF8.self)
    return text.debugDescription + (bytes.count > limit ? "…" : "")
  }
}
