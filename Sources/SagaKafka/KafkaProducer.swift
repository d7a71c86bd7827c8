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
    // rd_kafka_poll serves delivery reports; 100 ms bounds how long a close waits.
    // destroy() also runs on this thread, so the flag cannot change during the poll.
    self.io = KafkaIOThread(name: "kafka-producer") {
      if !client.isDestroyed { _ = rd_kafka_poll(client.handle, 100) }
    }
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
    if let fatal = fatalError { throw fatal }
    try await limiter.acquire()
    let promise = DeliveryPromise()
    let opaque = Unmanaged.passRetained(promise).toOpaque()
    let err = enqueue(message, opaque: opaque)
    guard err == RD_KAFKA_RESP_ERR_NO_ERROR else {
      Unmanaged<DeliveryPromise>.fromOpaque(opaque).release()
      limiter.release()
      throw KafkaError.from(err, context: "cannot queue message for \(message.topic)")
    }
    return KafkaDeliveryTicket(promise: promise)
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
    try? await io.run { () throws(KafkaError) in
      _ = rd_kafka_purge(client.handle, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
      // Serve the purge's delivery reports so every ticket completes.
      _ = rd_kafka_flush(client.handle, 1000)
      client.destroy()
    }
    await io.stop()
  }

  deinit {
    // Dropped without close: free librdkafka on the producer's thread. Reports of
    // messages still queued complete as not persisted.
    guard !closed.withLock({ $0 }) else { return }
    limiter.close()
    let client = self.client
    io.finish {
      _ = rd_kafka_purge(client.handle, Int32(RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT))
      _ = rd_kafka_flush(client.handle, 1000)
      client.destroy()
    }
  }

  private func enqueue(_ message: KafkaProducerMessage, opaque: UnsafeMutableRawPointer) -> rd_kafka_resp_err_t {
    var headers: OpaquePointer?
    if !message.headers.isEmpty {
      headers = rd_kafka_headers_new(message.headers.count)
      for header in message.headers {
        if let value = header.value {
          value.withUnsafeBytes { bytes in
            _ = rd_kafka_header_add(headers, header.key, -1, bytes.baseAddress, bytes.count)
          }
        } else {
          _ = rd_kafka_header_add(headers, header.key, -1, nil, 0)
        }
      }
    }
    let err = message.topic.withCString { topic in
      withOptionalBytes(message.key) { key in
        withOptionalBytes(message.value) { value in
          var values = [rd_kafka_vu_t](repeating: rd_kafka_vu_t(), count: 7)
          values[0].vtype = RD_KAFKA_VTYPE_TOPIC
          values[0].u.cstr = topic
          values[1].vtype = RD_KAFKA_VTYPE_PARTITION
          values[1].u.i32 = message.partition ?? RD_KAFKA_PARTITION_UA
          values[2].vtype = RD_KAFKA_VTYPE_MSGFLAGS
          values[2].u.i = RD_KAFKA_MSG_F_COPY
          values[3].vtype = RD_KAFKA_VTYPE_KEY
          values[3].u.mem.ptr = UnsafeMutableRawPointer(mutating: key.baseAddress)
          values[3].u.mem.size = key.count
          values[4].vtype = RD_KAFKA_VTYPE_VALUE
          values[4].u.mem.ptr = UnsafeMutableRawPointer(mutating: value.baseAddress)
          values[4].u.mem.size = value.count
          values[5].vtype = RD_KAFKA_VTYPE_OPAQUE
          values[5].u.ptr = opaque
          var count = 6
          if let headers {
            values[6].vtype = RD_KAFKA_VTYPE_HEADERS
            values[6].u.headers = headers
            count = 7
          }
          let result = client.withLiveHandle { handle -> rd_kafka_resp_err_t in
            guard let error = rd_kafka_produceva(handle, values, count) else { return RD_KAFKA_RESP_ERR_NO_ERROR }
            let code = rd_kafka_error_code(error)
            rd_kafka_error_destroy(error)
            return code
          }
          return result ?? RD_KAFKA_RESP_ERR__DESTROY
        }
      }
    }
    // librdkafka owns the headers only when the message was accepted.
    if err != RD_KAFKA_RESP_ERR_NO_ERROR, let headers { rd_kafka_headers_destroy(headers) }
    return err
  }
}

/// Passes nil (a Kafka null) for a missing key or value, else the bytes.
private func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer) -> R) -> R {
  guard let bytes else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
  return bytes.withUnsafeBytes(body)
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
