import CRdKafka
import Synchronization

/// The producer's librdkafka topic handles by name. Creating a handle asks for the
/// topic's leaders at once; producing by bare topic name instead leaves the first
/// message of a new topic waiting for librdkafka's 1 s topic scan.
final class ProducerTopicCache: Sendable {
  private let handles = Mutex<[String: TopicHandle]>([:])

  /// The handle of `name`, created on first use. Call only inside
  /// `RdKafkaClient.withLiveHandle`, which keeps `client` alive for the call.
  func handle(_ name: String, client: OpaquePointer) -> OpaquePointer? {
    let topic = handles.withLock { cache -> TopicHandle? in
      if let known = cache[name] { return known }
      guard let raw = rd_kafka_topic_new(client, name, nil) else { return nil }
      cache[name] = TopicHandle(raw: raw)
      return cache[name]
    }
    return topic?.raw
  }

  /// Releases every handle; librdkafka requires this before the client is destroyed.
  func destroyAll() {
    let all = handles.withLock { cache in
      defer { cache.removeAll() }
      return Array(cache.values)
    }
    for topic in all { rd_kafka_topic_destroy(topic.raw) }
  }
}

/// An `rd_kafka_topic_t`; librdkafka topic handles are thread-safe.
private struct TopicHandle: @unchecked Sendable {
  let raw: OpaquePointer
}
