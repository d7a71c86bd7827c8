public import Foundation

/// UUID text without Foundation's formatter and parser. Every message carries an
/// `eventId` that the consumer parses and the inbox stores as lowercase text; on Linux
/// `UUID(uuidString:)` goes through `sscanf` and `uuidString.lowercased()` builds two
/// strings, which together showed up in the saga's profile.
extension UUID {
  /// Parses the canonical `8-4-4-4-12` hex form in either case, exactly what
  /// `UUID(uuidString:)` accepts; nil for anything else.
  public init?(canonicalText text: String) {
    var bytes: uuid_t = (0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0)
    let parsed = withUnsafeMutableBytes(of: &bytes) { output -> Bool in
      var text = text
      return text.withUTF8 { input -> Bool in
        guard input.count == 36 else { return false }
        var position = 0
        var byte = 0
        while position < 36 {
          if position == 8 || position == 13 || position == 18 || position == 23 {
            guard input[position] == UInt8(ascii: "-") else { return false }
            position += 1
            continue
          }
          guard let high = Self.nibble(input[position]), let low = Self.nibble(input[position + 1]) else {
            return false
          }
          output[byte] = high << 4 | low
          byte += 1
          position += 2
        }
        return true
      }
    }
    guard parsed else { return nil }
    self.init(uuid: bytes)
  }

  /// The canonical form in lowercase, as Java's `UUID.toString()` writes it and as the
  /// inbox and the `eventId` header store it.
  public var lowercasedText: String {
    withUnsafeBytes(of: uuid) { bytes in
      String(unsafeUninitializedCapacity: 36) { output in
        let digits: StaticString = "0123456789abcdef"
        var position = 0
        for (index, byte) in bytes.enumerated() {
          if index == 4 || index == 6 || index == 8 || index == 10 {
            output[position] = UInt8(ascii: "-")
            position += 1
          }
          output[position] = digits.utf8Start[Int(byte >> 4)]
          output[position + 1] = digits.utf8Start[Int(byte & 0x0F)]
          position += 2
        }
        return position
      }
    }
  }

  private static func nibble(_ byte: UInt8) -> UInt8? {
    switch byte {
    case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
    case UInt8(ascii: "a")...UInt8(ascii: "f"): byte - UInt8(ascii: "a") + 10
    case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
    default: nil
    }
  }
}
