import SagaCore

/// A seeded generator (SplitMix64) so that random-looking test inputs are reproducible.
struct SeededGenerator: RandomNumberGenerator {
  private var state: UInt64

  init(seed: UInt64) { state = seed }

  mutating func next() -> UInt64 {
    state &+= 0x9E37_79B9_7F4A_7C15
    var z = state
    z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
    z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
    return z ^ (z >> 31)
  }
}

/// The bytes of a JSON text written in a test.
func bytes(_ json: String) -> [UInt8] { Array(json.utf8) }

/// The error `body` decodes to as `type`, or nil when it decodes.
func decodingError<E: SagaEvent>(_ type: E.Type, _ json: String) -> SagaError? {
  do {
    _ = try EventCodec.decode(type, from: bytes(json))
    return nil
  } catch {
    return error
  }
}
