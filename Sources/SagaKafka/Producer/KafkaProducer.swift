import CRdKafka
public import Logging
import Synchronization

/// An idempotent Kafka producer. `send` queues a message in librdkafka (suspending
/// while `maxInFlightMessages` are unacknowledged) and returns a ticket whose report
/// says whether the broker persisted it. Delivery reports are served on the producer's
/// own thread, never on Swift's cooperative pool.
public final class KafkaProducer: Sendable {
  private let client: RdKafkaClient
  private let limiter: InFlightLimiter
  private let io: KafkaIOThread
  private let logger: Logger
  private let closed = Mutex(false)
  private let topics = ProducerTopicCache()
  private let mainQueue: MainQueue

  public init(configuration: KafkaProducerConfiguration, logger: Logger) throws(KafkaError) {
    guard configuration.maxInFlightMessages > 0 else {
      throw KafkaError.configuration("maxInFlightMessages must be positive")
    }
    let limiter = InFlightLimiter(limit: configuration.maxInFlightMessages)
    let context = KafkaClientContext(logger: logger, limiter: limiter)
    let client = try RdKafkaClient(
      type: RD_KAFKA_PRODUCER, configuration: configuration.kafkaConfiguration, context: context
    ) { conf in
      rd_kafka_conf_set_dr_msg_cb(conf, producerDeliveryCallback)
    }
    self.client = client
    self.limiter = limiter
    self.logger = logger
    let mainQueue = MainQueue(rd_kafka_queue_get_main(client.handle))
    self.mainQueue = mainQueue
    // rd_kafka_poll serves delivery reports (and errors, statistics) as they arrive: the
    // thread sleeps in it until one does. A queued job (close) ends the wait through the
    // main queue's yield; the bound is only a safety net. It was 10 ms, 100 wake-ups a
    // second per producer for nothing: ~1.5 % of a core with the daemon idle.
    // destroy() also runs on this thread, so the flag cannot change during the poll.
    let idleMilliseconds = Int32(configuration.idlePoll.milliseconds)
    self.io = KafkaIOThread(
      name: "kafka-producer",
      idle: {
        if !client.isDestroyed { _ = rd_kafka_poll(client.handle, idleMilliseconds) }
      },
      wake: {
        // Under the client's lock: the queue handle is destroyed with it (`release`).
        _ = client.withLiveHandle { _ in mainQueue.yield() }
      })
  }

  /// Messages queued without a delivery report yet.
  public var inFlight: Int { limiter.inFlight }
  /// The most messages that were ever in flight at once; never above the bound.
  public var inFlightHighWater: Int { limiter.highWater }
  /// Callers currently suspended in `send` because the bound is reached.
  public var suspendedSenders: Int { limiter.waiting }
  /// The latest librdkafka statistics, if `statisticsInterval` is set.
  public var statistics: KafkaStatistics? { client.context.statistics.withLock { $0 } }
  /// Set once librdkafka has raised a fatal error; the producer must be recreated.
  public var fatalError: KafkaError? { client.context.fatalError.withLock { $0 } }

  /// Queues `message`. Suspends while the in-flight bound is reached; throws if the
  /// producer is closed, fatally failed, or librdkafka refuses the message outright
  /// (unknown partition, message too large, …).
  public func send(_ message: KafkaProducerMessage) async throws(KafkaError) -> KafkaDeliveryTicket {
    let ticket = try await send([message])[0]
    // Already complete on return means librdkafka refused it on the spot.
    if let error = ticket.promise.current?.error { throw error }
    return ticket
  }

  /// Queues `messages` in order, taking as many free slots of the in-flight bound at
  /// once as it can (one lock round per run instead of per message). A message
  /// librdkafka refuses gets a ticket that already reports `notPersisted` with the
  /// reason; the others are queued regardless. Throws only if nothing could be queued
  /// because the producer is closed or fatally failed.
  public func send(_ messages: [KafkaProducerMessage]) async throws(KafkaError) -> [KafkaDeliveryTicket] {
    if let fatal = fatalError { throw fatal }
    var tickets: [KafkaDeliveryTicket] = []
    tickets.reserveCapacity(messages.count)
    var index = messages.startIndex
    while index < messages.endIndex {
      let granted = try await limiter.acquire(upTo: messages.endIndex - index)
      let run = messages[index..<(index + granted)]
      let queued = client.withLiveHandle { handle in
        ProducerEnqueuer.enqueue(run, handle: handle, topics: topics, limiter: limiter)
      }
      guard let queued else {
        limiter.release(count: granted)
        throw KafkaError.closed("producer")
      }
      tickets += queued.map(KafkaDeliveryTicket.init(promise:))
      index += granted
    }
    return tickets
  }

  /// Waits until every queued message has a delivery report.
  public func flush(timeout: Duration) async throws(KafkaError) {
    guard await limiter.waitUntilDrained(timeout: timeout) else {
      throw KafkaError(
        code: .timedOut, message: "\(limiter.inFlight) message(s) still undelivered after \(timeout)")
    }
  }

  /// Stops accepting messages, waits up to `timeout` for outstanding deliveries, then
  /// purges the rest (their tickets report `notPersisted` or `possiblyPersisted`) and
  /// destroys the client.
  public func close(timeout: Duration = .seconds(10)) async {
    let first = closed.withLock { closed in
      defer { closed = true }
      return !closed
    }
    guard first else { return }
    limiter.close()
    if await !limiter.waitUntilDrained(timeout: timeout) {
      logger.warning("closing producer with \(limiter.inFlight) undelivered message(s)")
    }
    let client = self.client
    let topics = self.topics
    let mainQueue = self.mainQueue
    try? await io.run { () throws(KafkaError) in
      _ = rd_kafka_purge(client.handle, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
      // Serve the purge's delivery reports so every ticket completes.
      _ = rd_kafka_flush(client.handle, 1000)
      client.destroy { Self.release(topics, mainQueue) }
    }
    await io.stop()
  }

  deinit {
    // Dropped without close: free librdkafka on the producer's thread. Reports of
    // messages still queued complete as not persisted.
    guard !closed.withLock({ $0 }) else { return }
    limiter.close()
    let client = self.client
    let topics = self.topics
    let mainQueue = self.mainQueue
    io.finish {
      _ = rd_kafka_purge(client.handle, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
      _ = rd_kafka_flush(client.handle, 1000)
      client.destroy { Self.release(topics, mainQueue) }
    }
  }

  /// What must go before the handle: its topic handles and our reference to its main queue.
  private static func release(_ topics: ProducerTopicCache, _ mainQueue: MainQueue) {
    topics.destroyAll()
    mainQueue.destroy()
  }
}

/// The producer's reference to its handle's main queue, where delivery reports arrive:
/// `yield` makes a `rd_kafka_poll` sleeping on it return at once (from any thread).
/// Destroyed under the client's lock, before the handle; `yield` runs under that lock too.
private final class MainQueue: @unchecked Sendable {
  private var queue: OpaquePointer?

  init(_ queue: OpaquePointer?) { self.queue = queue }

  func yield() {
    if let queue { rd_kafka_queue_yield(queue) }
  }

  func destroy() {
    if let queue { rd_kafka_queue_destroy(queue) }
    queue = nil
  }
}

private func producerDeliveryCallback(
  _ rk: OpaquePointer?, _ message: UnsafePointer<rd_kafka_message_t>?, _ opaque: UnsafeMutableRawPointer?
) {
  guard let message, let messageOpaque = message.pointee._private else { return }
  let promise = Unmanaged<DeliveryPromise>.fromOpaque(messageOpaque).takeRetainedValue()
  let status: KafkaDeliveryReport.Status =
    switch rd_kafka_message_status(message) {
    case RD_KAFKA_MSG_STATUS_PERSISTED: .persisted
    case RD_KAFKA_MSG_STATUS_POSSIBLY_PERSISTED: .possiblyPersisted
    default: .notPersisted
    }
  let err = message.pointee.err
  let topic = message.pointee.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
  let error = err == RD_KAFKA_RESP_ERR_NO_ERROR ? nil : KafkaError.from(err, context: "delivery to \(topic) failed")
  // Free the slot before publishing the report: whoever sees the report also sees
  // the producer's in-flight count without it.
  KafkaClientContext.from(opaque)?.limiter?.release()
  promise.fulfill(
    KafkaDeliveryReport(
      status: error == nil ? status : (status == .persisted ? .possiblyPersisted : status),
      topic: topic, partition: message.pointee.partition,
      offset: status == .persisted && error == nil ? message.pointee.offset : nil, error: error))
}
