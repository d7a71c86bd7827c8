import SagaCore
import Testing

@Suite("RetryPolicy")
struct RetryPolicyTests {
  @Test("the defaults are the report's numbers and valid")
  func defaults() throws {
    let policy = try RetryPolicy.standard.validated()
    #expect(policy.attempts == 3)
    #expect(policy.initialDelay == .seconds(1))
    #expect(policy.multiplier == 2.0)
    #expect(policy.maxDelay == .seconds(30))
    #expect(policy.jitter == 0.2)
    #expect(policy.inPlaceAttempts == 2)
  }

  @Test("no wait before the first run, a short one in place, then the backoff from initialDelay")
  func delays() {
    let policy = RetryPolicy(attempts: 8, inPlaceAttempts: 2)
    let unjittered = (1...8).map { policy.delay(beforeAttempt: $0, unitRandom: 0.5) }
    #expect(
      unjittered == [
        .zero, .milliseconds(20), .seconds(1), .seconds(2), .seconds(4), .seconds(8), .seconds(16), .seconds(30),
      ])
    #expect((1...3).map { policy.isInPlace($0) } == [true, true, false])
  }

  @Test("jitter spreads a wait by up to ± jitter, never past maxDelay")
  func jitter() {
    let policy = RetryPolicy(attempts: 10, inPlaceAttempts: 1)
    #expect(policy.delay(beforeAttempt: 2, unitRandom: 0) == .milliseconds(800))
    #expect(policy.delay(beforeAttempt: 2, unitRandom: 1) == .milliseconds(1_200))
    #expect(policy.delay(beforeAttempt: 3, unitRandom: 0.25) == .milliseconds(1_800))
    // 32 s is capped to 30 s, and the upper jitter cannot lift it past the cap.
    #expect(policy.delay(beforeAttempt: 7, unitRandom: 1) == .seconds(30))
    #expect(policy.delay(beforeAttempt: 7, unitRandom: 0) == .seconds(24))
    var generator = SeededGenerator(seed: 7)
    for _ in 0..<200 {
      let delay = policy.delay(beforeAttempt: 3, using: &generator)
      #expect(delay >= .milliseconds(1_600) && delay <= .milliseconds(2_400))
    }
  }

  @Test("huge attempt numbers and multipliers stay at maxDelay; a zero initial delay stays zero")
  func extremes() {
    let policy = RetryPolicy(attempts: 10_000, multiplier: 10, inPlaceAttempts: 1)
    #expect(policy.delay(beforeAttempt: 9_999, unitRandom: 0.5) == .seconds(30))
    let immediate = RetryPolicy(attempts: 5, initialDelay: .zero, maxDelay: .zero, inPlaceAttempts: 1)
    #expect(immediate.delay(beforeAttempt: 5, unitRandom: 1) == .zero)
  }

  @Test("attempts count every run: the last allowed one is attempts")
  func attemptsLeft() {
    let policy = RetryPolicy.standard
    #expect([1, 2, 3].map { policy.allowsAnotherAttempt(after: $0) } == [true, true, false])
  }

  @Test(
    "invalid settings are refused, naming the key",
    arguments: [
      (RetryPolicy(attempts: 0, inPlaceAttempts: 1), "retry.attempts"),
      (RetryPolicy(inPlaceAttempts: 0), "retry.in_place_attempts"),
      (RetryPolicy(attempts: 2, inPlaceAttempts: 3), "retry.in_place_attempts"),
      (RetryPolicy(initialDelay: .seconds(-1)), "retry.initial_delay"),
      (RetryPolicy(initialDelay: .seconds(10), maxDelay: .seconds(5)), "retry.max_delay"),
      (RetryPolicy(multiplier: 0.5), "retry.multiplier"),
      (RetryPolicy(multiplier: .nan), "retry.multiplier"),
      (RetryPolicy(jitter: 1), "retry.jitter"),
      (RetryPolicy(jitter: -0.1), "retry.jitter"),
    ])
  func validation(policy: RetryPolicy, key: String) {
    #expect {
      _ = try policy.validated()
    } throws: { error in
      guard let error = error as? SagaError else { return false }
      return error.code == .invalidValue && error.message.hasPrefix(key + " ")
    }
  }
}
