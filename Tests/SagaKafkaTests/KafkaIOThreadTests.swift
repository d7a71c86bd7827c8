import Foundation
import Testing

@testable import SagaKafka

@Suite("KafkaIOThread")
struct KafkaIOThreadTests {
  /// Operators find librdkafka's client threads in `top -H` and profiles by this name; before,
  /// they carried the name of whichever pool thread created them.
  @Test("the OS thread carries the given name, cut to Linux's 15 bytes")
  func namedThread() async throws {
    #if os(Linux)
      for (given, shown) in [
        ("kafka-io-test", "kafka-io-test"), ("kafka-io-named-for-tests", "kafka-io-named-"),
        ("kafka-ïo-named-", "kafka-ïo-named"),
      ] {
        let io = KafkaIOThread(name: given)
        let name = try await io.run { () throws(KafkaError) -> String in
          (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "unreadable"
        }
        await io.stop()
        #expect(name.trimmingCharacters(in: .newlines) == shown)
      }
    #endif
  }
}
