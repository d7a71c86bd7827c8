import CRdKafka
import SagaCore

/// Hands messages to `rd_kafka_produceva`. Runs inside `RdKafkaClient.withLiveHandle`,
/// so neither the client nor its topic handles can be freed during the calls.
enum ProducerEnqueuer {
  /// Queues each message with a fresh delivery promise as its opaque. A message
  /// librdkafka refuses has its promise fulfilled at once with the reason and its
  /// in-flight slot released, so every returned promise completes exactly once.
  static func enqueue(
    _ messages: ArraySlice<KafkaProducerMessage>, handle: OpaquePointer, topics: ProducerTopicCache,
    limiter: InFlightLimiter
  ) -> [DeliveryPromise] {
    var promises: [DeliveryPromise] = []
    promises.reserveCapacity(messages.count)
    // Consecutive messages usually share a topic: look its handle up once per run.
    var lastTopic: (name: String, handle: OpaquePointer)?
    for message in messages {
      let promise = DeliveryPromise()
      promises.append(promise)
      let topic: OpaquePointer?
      if let lastTopic, lastTopic.name == message.topic {
        topic = lastTopic.handle
      } else {
        topic = topics.handle(message.topic, client: handle)
        lastTopic = topic.map { (message.topic, $0) }
      }
      let opaque = Unmanaged.passRetained(promise).toOpaque()
      let err =
        topic.map { enqueue(message, topic: $0, handle: handle, opaque: opaque) } ?? RD_KAFKA_RESP_ERR__INVALID_ARG
      guard err != RD_KAFKA_RESP_ERR_NO_ERROR else { continue }
      Unmanaged<DeliveryPromise>.fromOpaque(opaque).release()
      limiter.release()
      promise.fulfill(
        KafkaDeliveryReport(
          status: .notPersisted, topic: message.topic, partition: message.partition ?? -1, offset: nil,
          error: KafkaError.from(err, context: "cannot queue message for \(message.topic)"),
          refusedAtEnqueue: true))
    }
    return promises
  }

  private static func enqueue(
    _ message: KafkaProducerMessage, topic: OpaquePointer, handle: OpaquePointer, opaque: UnsafeMutableRawPointer
  ) -> rd_kafka_resp_err_t {
    var headers: OpaquePointer?
    if !message.headers.isEmpty {
      headers = rd_kafka_headers_new(message.headers.count)
      for header in message.headers {
        switch header.content {
        case .text(var text):
          // A text value's UTF-8 is handed over in place: no byte array per header.
          text.withUTF8 { bytes in
            _ = rd_kafka_header_add(headers, header.name, -1, bytes.baseAddress, bytes.count)
          }
        case .binary(let value):
          value.withUnsafeBytes { bytes in
            _ = rd_kafka_header_add(headers, header.name, -1, bytes.baseAddress, bytes.count)
          }
        case .null:
          _ = rd_kafka_header_add(headers, header.name, -1, nil, 0)
        }
      }
    }
    let err = withOptionalBytes(message.key) { key in
      withOptionalBytes(message.value) { value in
        // Seven small descriptors on the stack rather than an array per message.
        withUnsafeTemporaryAllocation(of: rd_kafka_vu_t.self, capacity: 7) { values in
          values.initialize(repeating: rd_kafka_vu_t())
          values[0].vtype = RD_KAFKA_VTYPE_RKT
          values[0].u.rkt = topic
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
          guard let error = rd_kafka_produceva(handle, values.baseAddress, count) else {
            return RD_KAFKA_RESP_ERR_NO_ERROR
          }
          let code = rd_kafka_error_code(error)
          rd_kafka_error_destroy(error)
          return code
        }
      }
    }
    // librdkafka owns the headers only when the message was accepted.
    if err != RD_KAFKA_RESP_ERR_NO_ERROR, let headers { rd_kafka_headers_destroy(headers) }
    return err
  }

  /// Passes nil (a Kafka null) for a missing key or value, else the bytes.
  private static func withOptionalBytes<R>(_ bytes: [UInt8]?, _ body: (UnsafeRawBufferPointer) -> R) -> R {
    guard let bytes else { return body(UnsafeRawBufferPointer(start: nil, count: 0)) }
    return bytes.withUnsafeBytes(body)
  }
}
