import Foundation
import SagaCore
import Testing

/// The reward rule (Docs/design.md, "Reward") in integer arithmetic. Expected values come from the report's
/// rule worked by hand, from decimal string arithmetic, or from `Int128` — never from the
/// code under test.
@Suite("Reward rule", .timeLimit(.minutes(2)))
struct RewardRuleTests {
  /// paid × rate ÷ 10 000 rounded down to `unit`, in 128-bit arithmetic.
  static func reference(_ paid: Int64, rate: Int64, unit: Int64) -> Int64 {
    let raw = Int128(paid) * Int128(rate) / 10_000
    return Int64(raw / Int128(unit) * Int128(unit))
  }

  /// The default rule (10 %, down to 100) on the decimal digits: drop the last digit, then
  /// zero the last two of what remains.
  static func decimalReference(_ paid: Int64) -> Int64 {
    let tenth = String(String(paid).dropLast())
    guard tenth.count > 2 else { return 0 }
    return Int64(tenth.dropLast(2) + "00")!
  }

  @Test(
    "the issue's table under the default rule",
    arguments: [
      (Int64(0), Int64(0)), (999, 0), (1_000, 100), (12_345, 1_200), (50_000, 5_000), (1_999, 100), (100_000, 10_000),
    ])
  func table(_ paid: Int64, _ expected: Int64) {
    #expect(RewardRule.standard.reward(forPaid: paid) == expected)
  }

  @Test("near Int64.max / 10 and at Int64.max: exact, no overflow")
  func huge() throws {
    let nearTenth = Int64.max / 10  // 922337203685477580
    #expect(Self.decimalReference(nearTenth) == 92_233_720_368_547_700)
    #expect(RewardRule.standard.reward(forPaid: nearTenth) == 92_233_720_368_547_700)
    #expect(RewardRule.standard.reward(forPaid: nearTenth + 7) == Self.decimalReference(nearTenth + 7))
    #expect(RewardRule.standard.reward(forPaid: Int64.max) == 922_337_203_685_477_500)
    #expect(RewardRule.standard.reward(forPaid: Int64.max) == Self.decimalReference(Int64.max))

    let full = try RewardRule(rateBasisPoints: 10_000, unit: 1)
    #expect(full.reward(forPaid: Int64.max) == Int64.max)
    let odd = try RewardRule(rateBasisPoints: 9_999, unit: 7)
    #expect(odd.reward(forPaid: Int64.max) == Self.reference(Int64.max, rate: 9_999, unit: 7))
  }

  @Test("the default rule agrees with decimal arithmetic on many amounts")
  func defaultRuleMatchesDecimal() {
    var generator = SeededGenerator(seed: 7)
    for _ in 0..<2_000 {
      let paid = Int64.random(in: 0...Int64.max, using: &generator) >> Int64.random(in: 0...62, using: &generator)
      #expect(RewardRule.standard.reward(forPaid: paid) == Self.decimalReference(paid), "paid \(paid)")
    }
  }

  @Test("non-default rules")
  func otherRules() throws {
    let fivePercentTens = try RewardRule(rateBasisPoints: 500, unit: 10)
    #expect(fivePercentTens.reward(forPaid: 12_345) == 610)  // 617.25 → 610
    let exact = try RewardRule(rateBasisPoints: 1_234, unit: 1)
    #expect(exact.reward(forPaid: 10_000) == 1_234)
    #expect(exact.reward(forPaid: 9_999) == 1_233)  // 1233.87 → 1233
    let none = try RewardRule(rateBasisPoints: 0, unit: 100)
    #expect(none.reward(forPaid: Int64.max) == 0)
    let bigUnit = try RewardRule(rateBasisPoints: 1_000, unit: 1_000_000)
    #expect(bigUnit.reward(forPaid: 9_999_999) == 0)
    #expect(bigUnit.reward(forPaid: 10_000_000) == 1_000_000)

    var generator = SeededGenerator(seed: 99)
    for _ in 0..<1_000 {
      let rate = Int64.random(in: 0...10_000, using: &generator)
      let unit = Int64.random(in: 1...100_000, using: &generator)
      let paid = Int64.random(in: 0...Int64.max, using: &generator)
      let rule = try RewardRule(rateBasisPoints: rate, unit: unit)
      #expect(rule.reward(forPaid: paid) == Self.reference(paid, rate: rate, unit: unit), "\(rule), paid \(paid)")
    }
  }

  @Test("defaults are the report's 10 % rounded down to 100")
  func defaults() throws {
    #expect(RewardRule.standard.rateBasisPoints == 1_000)
    #expect(RewardRule.standard.unit == 100)
    #expect(try RewardRule() == RewardRule.standard)
  }

  @Test("invalid rules are rejected with a typed error")
  func validation() {
    #expect(throws: RewardRule.ValidationError.rateOutOfRange(-1)) { try RewardRule(rateBasisPoints: -1, unit: 100) }
    #expect(throws: RewardRule.ValidationError.rateOutOfRange(10_001)) {
      try RewardRule(rateBasisPoints: 10_001, unit: 100)
    }
    #expect(throws: RewardRule.ValidationError.unitNotPositive(0)) { try RewardRule(rateBasisPoints: 1_000, unit: 0) }
    #expect(throws: RewardRule.ValidationError.unitNotPositive(-100)) {
      try RewardRule(rateBasisPoints: 1_000, unit: -100)
    }
    #expect(RewardRule.ValidationError.unitNotPositive(0).description.contains("unit"))
  }

  @Test("Codable validates too")
  func codable() throws {
    let rule = try JSONDecoder().decode(RewardRule.self, from: Data(#"{"rateBasisPoints":250,"unit":50}"#.utf8))
    #expect(rule == (try RewardRule(rateBasisPoints: 250, unit: 50)))
    #expect(throws: RewardRule.ValidationError.unitNotPositive(0)) {
      try JSONDecoder().decode(RewardRule.self, from: Data(#"{"rateBasisPoints":250,"unit":0}"#.utf8))
    }
  }
}
