import Foundation
import SagaCore
import SagaTestSupport
import Synchronization
import Testing

@testable import SagaKafka

@Suite("KafkaIOThread", .timeLimit(.minutes(2)))
struct KafkaIOThreadTests {
  /// Operators find librdkafka's client threads in `top -H` and profiles by this name; before,
  /// they carried the name of whichever pool thread created them. Ten threads per name: naming
  /// through Foundation's `Thread.name` raced with `start()` and lost now and then.
  @Test("the OS thread carries the given name, cut to Linux's 15 bytes")
  func namedThread() async throws {
    #if os(Linux)
      let names = [
        ("kafka-io-test", "kafka-io-test"), ("kafka-io-named-for-tests", "kafka-io-named-"),
        ("kafka-ïo-named-", "kafka-ïo-named"),
      ]
      for (given, shown) in Array(repeating: names, count: 10).joined() {
        let io = KafkaIOThread(name: given)
        let name = try await io.run { () throws(KafkaError) -> String in
          (try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "unreadable"
        }
        await io.stop()
        #expect(name.trimmingCharacters(in: .newlines) == shown)
      }
    #endif
  }

  /// The idle body sleeps far longer than the suite's time limit unless `wake` ends it: a job
  /// queued meanwhile runs only because queuing it wakes the thread.
  @Test("a job queued while the idle body sleeps wakes it")
  func wakeEndsIdle() async throws {
    let alarm = DispatchSemaphore(value: 0)
    let idles = Atomic<Int>(0)
    let io = KafkaIOThread(
      name: "kafka-io-wake",
      idle: {
        idles.add(1, ordering: .relaxed)
        _ = alarm.wait(timeout: .now() + 600)
      },
      wake: { alarm.signal() })
    for round in 1...3 {
      #expect(try await io.run { () throws(KafkaError) -> Int in round } == round)
    }
    await io.stop()
    #expect(idles.load(ordering: .relaxed) >= 1)
  }

  /// librdkafka's `rd_kafka_queue_yield` ends the producer's `rd_kafka_poll` for a queued job:
  /// with a ten-minute idle poll, `close` (a job on that thread) returns within the time limit,
  /// and delivery reports, which wake the poll by themselves, still arrive.
  @Test("the producer sleeps in rd_kafka_poll and still delivers and closes at once")
  func producerWakes() async throws {
    let cluster = try EmbeddedKafkaCluster(brokers: 1, logger: quietLogger)
    defer { cluster.destroyInBackground() }
    let topic = uniqueName("idle-poll")
    try cluster.createTopic(topic, partitions: 1)
    var configuration = KafkaProducerConfiguration(bootstrapServers: cluster.bootstrapServers)
    configuration.idlePoll = .seconds(600)
    let producer = try KafkaProducer(configuration: configuration, logger: quietLogger)
    for index in 0..<3 {
      let report = try await producer.send(KafkaProducerMessage(topic: topic, key: "k", value: "\(index)")).report
      #expect(report.status == .persisted)
    }
    await producer.close()
    #expect(producer.inFlight == 0)
  }
}
