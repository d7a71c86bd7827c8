import SagaKafka
import ServiceLifecycle

/// Closes the node's producers (flushing what they still hold) when a graceful shutdown
/// reaches it. Placed before the relays in the service group, so that happens after they
/// drained the outbox. On cancellation (a drain past `shutdown.timeout`) it leaves them
/// open: a relay may still be inside a produce call, and the process is ending.
struct ProducerCloser: Service {
  let producers: [KafkaProducer]

  func run() async {
    do {
      try await gracefulShutdown()
    } catch {
      return
    }
    for producer in producers { await producer.close(timeout: .seconds(5)) }
  }
}
