import CRdKafka
import Logging
import SagaCore

/// Copies librdkafka messages into `KafkaConsumerMessage` values and frees them.
enum ConsumerMessageReader {
  /// Appends `message` to `batch`, or returns the error it carries. Destroys it.
  static func take(
    _ message: UnsafeMutablePointer<rd_kafka_message_t>, into batch: inout [KafkaConsumerMessage], logger: Logger
  ) -> KafkaError? {
    defer { rd_kafka_message_destroy(message) }
    let m = message.pointee
    let topic = m.rkt.map { String(cString: rd_kafka_topic_name($0)) } ?? ""
    guard m.err == RD_KAFKA_RESP_ERR_NO_ERROR else {
      // Errors travel as messages: end of partition is informational, the rest are
      // reported; librdkafka keeps retrying transient ones by itself.
      if m.err == RD_KAFKA_RESP_ERR__PARTITION_EOF { return nil }
      let error = KafkaError.from(m.err, context: "consumer error on \(topic)[\(m.partition)]")
      logger.warning("\(error)")
      return error.isFatal ? error : nil
    }
    var headers: [RecordHeader] = []
    var hdrs: OpaquePointer?
    if rd_kafka_message_headers(message, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR, let hdrs {
      var index = 0
      var name: UnsafePointer<CChar>?
      var value: UnsafeRawPointer?
      var size = 0
      while rd_kafka_header_get_all(hdrs, index, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR {
        headers.append(
          RecordHeader(
            name: name.map { String(cString: $0) } ?? "",
            content: value.map { RecordBytes(UnsafeRawBufferPointer(start: $0, count: size)) } ?? .null))
        index += 1
      }
    }
    var timestampType = RD_KAFKA_TIMESTAMP_NOT_AVAILABLE
    let timestamp = rd_kafka_message_timestamp(message, &timestampType)
    batch.append(
      KafkaConsumerMessage(
        topic: topic, partition: m.partition, offset: m.offset,
        key: m.key.map { Array(UnsafeRawBufferPointer(start: $0, count: m.key_len)) },
        value: m.payload.map { Array(UnsafeRawBufferPointer(start: $0, count: m.len)) },
        headers: headers,
        timestampMilliseconds: timestamp >= 0 ? timestamp : nil,
        timestampType: timestampType == RD_KAFKA_TIMESTAMP_CREATE_TIME
          ? .createTime : (timestampType == RD_KAFKA_TIMESTAMP_LOG_APPEND_TIME ? .logAppendTime : nil)))
    return nil
  }
}
