/// A partition's low watermark (the oldest offset still stored, the log start) and high
/// watermark (the offset the next record will get).
public struct PartitionWatermarks: Sendable, Hashable, CustomStringConvertible {
  public var low: Int64
  public var high: Int64

  public init(low: Int64, high: Int64) {
    self.low = low
    self.high = high
  }

  public var description: String { "\(low)..\(high)" }
}
