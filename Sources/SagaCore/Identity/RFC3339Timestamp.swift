public import Foundation

/// RFC 3339 timestamps in UTC with milliseconds (`2025-01-31T23:59:59.123Z`), the form of the
/// `occurredAt` header. Written by hand on integer milliseconds rather than with a
/// formatter: no locale or calendar settings can change it, it round-trips exactly, and it
/// is cheap enough to run for every message.
public enum RFC3339Timestamp {
  /// The instants RFC 3339's four-digit years can express, in milliseconds since the epoch.
  public static let representable: ClosedRange<Int64> =
    days(fromYear: 0, month: 1, day: 1) * 86_400_000...days(fromYear: 10_000, month: 1, day: 1) * 86_400_000 - 1

  /// Milliseconds since the Unix epoch as `YYYY-MM-DDTHH:MM:SS.mmmZ`. Instants outside years
  /// 0000...9999 are clamped to that range rather than trapping: a header is no reason to crash.
  public static func format(milliseconds: Int64) -> String {
    let clamped = min(max(milliseconds, representable.lowerBound), representable.upperBound)
    let (days, msOfDay) = floorDivide(clamped, 86_400_000)
    let (year, month, day) = civil(fromDays: days)
    let seconds = msOfDay / 1000
    // 24 bytes written in place: a string per field and fifteen concatenations cost more than
    // the rest of an event's headers.
    return String(unsafeUninitializedCapacity: 24) { bytes in
      var index = 0
      func put(_ value: Int64, _ width: Int) {
        var rest = value
        for offset in stride(from: width - 1, through: 0, by: -1) {
          bytes[index + offset] = UInt8(ascii: "0") + UInt8(rest % 10)
          rest /= 10
        }
        index += width
      }
      func put(_ character: Unicode.Scalar) {
        bytes[index] = UInt8(ascii: character)
        index += 1
      }
      put(year, 4)
      put("-")
      put(month, 2)
      put("-")
      put(day, 2)
      put("T")
      put(seconds / 3600, 2)
      put(":")
      put(seconds / 60 % 60, 2)
      put(":")
      put(seconds % 60, 2)
      put(".")
      put(msOfDay % 1000, 3)
      put("Z")
      return index
    }
  }

  /// `date` as `YYYY-MM-DDTHH:MM:SS.mmmZ`, rounded down to the millisecond.
  public static func format(_ date: Date) -> String {
    format(milliseconds: milliseconds(of: date))
  }

  /// Parses `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)` (`T`/`Z` in either case) into
  /// milliseconds since the epoch; digits past the millisecond are dropped, a leap second
  /// (`:60`) counts as `:59.999`. Nil for anything else.
  public static func parse(_ text: String) -> Int64? {
    var scanner = DigitScanner(Array(text.utf8))
    guard let year = scanner.number(4), scanner.skip("-"), let month = scanner.number(2), scanner.skip("-"),
      let day = scanner.number(2), scanner.skip("T") || scanner.skip("t"), let hour = scanner.number(2),
      scanner.skip(":"), let minute = scanner.number(2), scanner.skip(":"), let second = scanner.number(2),
      (1...12).contains(month), (1...daysIn(month: month, year: year)).contains(day), hour < 24, minute < 60,
      second <= 60
    else { return nil }
    var millis: Int64 = 0
    if scanner.skip(".") {
      guard let fraction = scanner.fraction() else { return nil }
      millis = fraction
    }
    var offsetMinutes: Int64 = 0
    if !(scanner.skip("Z") || scanner.skip("z")) {
      let sign: Int64
      if scanner.skip("+") {
        sign = 1
      } else if scanner.skip("-") {
        sign = -1
      } else {
        return nil
      }
      guard let offsetHour = scanner.number(2), scanner.skip(":"), let offsetMinute = scanner.number(2),
        offsetHour < 24, offsetMinute < 60
      else { return nil }
      offsetMinutes = sign * (offsetHour * 60 + offsetMinute)
    }
    guard scanner.atEnd else { return nil }
    if second == 60 { millis = 999 }
    let secondsOfDay = hour * 3600 + minute * 60 + min(second, 59) - offsetMinutes * 60
    return (days(fromYear: year, month: month, day: day) * 86_400 + secondsOfDay) * 1000 + millis
  }

  /// Milliseconds since the epoch of `date`, rounded down.
  public static func milliseconds(of date: Date) -> Int64 {
    Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
  }

  /// The `Date` of `milliseconds` since the epoch.
  public static func date(milliseconds: Int64) -> Date {
    Date(timeIntervalSince1970: Double(milliseconds) / 1000)
  }

  // Howard Hinnant's days_from_civil / civil_from_days (proleptic Gregorian calendar).
  static func days(fromYear year: Int64, month: Int64, day: Int64) -> Int64 {
    let y = month <= 2 ? year - 1 : year
    let era = floorDivide(y, 400).quotient
    let yearOfEra = y - era * 400
    let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
    let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
    return era * 146_097 + dayOfEra - 719_468
  }

  static func civil(fromDays days: Int64) -> (year: Int64, month: Int64, day: Int64) {
    let shifted = days + 719_468
    let era = floorDivide(shifted, 146_097).quotient
    let dayOfEra = shifted - era * 146_097
    let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
    let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
    let monthIndex = (5 * dayOfYear + 2) / 153
    let day = dayOfYear - (153 * monthIndex + 2) / 5 + 1
    let month = monthIndex < 10 ? monthIndex + 3 : monthIndex - 9
    return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
  }

  private static func daysIn(month: Int64, year: Int64) -> Int64 {
    switch month {
    case 2: (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 ? 29 : 28
    case 4, 6, 9, 11: 30
    default: 31
    }
  }

  private static func floorDivide(_ value: Int64, _ divisor: Int64) -> (quotient: Int64, remainder: Int64) {
    let remainder = value % divisor
    return remainder < 0 ? (value / divisor - 1, remainder + divisor) : (value / divisor, remainder)
  }

  /// A cursor over ASCII bytes for the parser.
  private struct DigitScanner {
    private let bytes: [UInt8]
    private var index = 0

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    var atEnd: Bool { index == bytes.count }

    /// Exactly `count` digits.
    mutating func number(_ count: Int) -> Int64? {
      guard index + count <= bytes.count else { return nil }
      var value: Int64 = 0
      for byte in bytes[index..<index + count] {
        guard (0x30...0x39).contains(byte) else { return nil }
        value = value * 10 + Int64(byte - 0x30)
      }
      index += count
      return value
    }

    /// One or more digits of a decimal fraction, as whole milliseconds (rounded down).
    mutating func fraction() -> Int64? {
      var millis: Int64 = 0
      var digits = 0
      while index < bytes.count, (0x30...0x39).contains(bytes[index]) {
        if digits < 3 { millis = millis * 10 + Int64(bytes[index] - 0x30) }
        digits += 1
        index += 1
      }
      guard digits > 0 else { return nil }
      for _ in digits..<max(digits, 3) { millis *= 10 }
      return millis
    }

    mutating func skip(_ character: Unicode.Scalar) -> Bool {
      guard index < bytes.count, bytes[index] == UInt8(character.value) else { return false }
      index += 1
      return true
    }
  }
}
