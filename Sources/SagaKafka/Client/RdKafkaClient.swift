import CRdKafka
import Foundation
import Logging
import Synchronization

/// State shared between a client and librdkafka's C callbacks, reached through the
/// handle's opaque pointer. Everything in it is safe to touch from librdkafka's threads.
final class KafkaClientContext: Sendable {
  let logger: Logger
  let statistics = Mutex<KafkaStatistics?>(nil)
  let fatalError = Mutex<KafkaError?>(nil)
  /// Set by the consumer: commits before a revoke and records assignments.
  let rebalance = Mutex<RebalanceState>(RebalanceState())
  /// Set by the producer: the in-flight bound, released by each delivery report.
  let limiter: InFlightLimiter?

  init(logger: Logger, limiter: InFlightLimiter? = nil) {
    self.logger = logger
    self.limiter = limiter
  }

  static func from(_ opaque: UnsafeMutableRawPointer?) -> KafkaClientContext? {
    opaque.map { Unmanaged<KafkaClientContext>.fromOpaque($0).takeUnretainedValue() }
  }
}

/// What the consumer's rebalance callback has seen.
struct RebalanceState: Sendable {
  var assignment: Set<TopicPartition> = []
  var generation = 0
  var lastRevokeCommitError: KafkaError?
  /// Set by `KafkaConsumer.setPaused`: every partition a rebalance assigns is paused at once.
  var pauseAll = false
}

/// Owns one `rd_kafka_t`. librdkafka handles are thread-safe, hence @unchecked.
final class RdKafkaClient: @unchecked Sendable {
  let handle: OpaquePointer
  let context: KafkaClientContext
  private let destroyed = Mutex(false)

  /// Creates the handle; `configure` installs type-specific callbacks on the conf.
  init(
    type: rd_kafka_type_t, configuration: KafkaConfiguration, context: KafkaClientContext,
    configure: (OpaquePointer) -> Void = { _ in }
  ) throws(KafkaError) {
    let conf = try configuration.makeConf()
    rd_kafka_conf_set_opaque(conf, Unmanaged.passUnretained(context).toOpaque())
    rd_kafka_conf_set_log_cb(conf, kafkaLogCallback)
    rd_kafka_conf_set_error_cb(conf, kafkaErrorCallback)
    if configuration["statistics.interval.ms"].map({ $0 != "0" }) ?? false {
      rd_kafka_conf_set_stats_cb(conf, kafkaStatisticsCallback)
    }
    configure(conf)
    var errstr = [CChar](repeating: 0, count: 512)
    // On success rd_kafka_new takes ownership of conf; on failure we still own it.
    guard let handle = rd_kafka_new(type, conf, &errstr, errstr.count) else {
      rd_kafka_conf_destroy(conf)
      let reason = String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
      throw KafkaError.configuration("cannot create Kafka client: \(reason)")
    }
    self.handle = handle
    self.context = context
  }

  var name: String { String(cString: rd_kafka_name(handle)) }

  /// True once `destroy` has begun; nothing may touch the handle afterwards.
  var isDestroyed: Bool { destroyed.withLock { $0 } }

  /// Runs a short, non-blocking call on the handle unless it is destroyed. The lock
  /// is held for the call, so `destroy` can never free the handle under it.
  func withLiveHandle<R>(_ body: (OpaquePointer) -> R) -> R? {
    destroyed.withLock { destroyed in destroyed ? nil : body(handle) }
  }

  /// Destroys the handle once. `first` runs under the lock, after every call in
  /// `withLiveHandle` has left and before any can enter again (topic handles must go
  /// before the client). Blocking: call it from the client's I/O thread.
  func destroy(first: () -> Void = {}) {
    let isFirst = destroyed.withLock { done in
      defer { done = true }
      if !done { first() }
      return !done
    }
    if isFirst { rd_kafka_destroy(handle) }
  }

  deinit {
    // The owners close explicitly on their I/O thread; this is the safety net for a
    // client dropped without close, kept off the cooperative pool.
    let alreadyDestroyed = destroyed.withLock { $0 }
    if !alreadyDestroyed {
      let leftover = LeftoverHandle(handle: handle, context: context)
      Thread.detachNewThread { leftover.destroy() }
    }
  }
}

/// A handle nobody closed, destroyed on a thread of its own.
private struct LeftoverHandle: @unchecked Sendable {
  let handle: OpaquePointer
  let context: KafkaClientContext

  func destroy() {
    rd_kafka_destroy(handle)
    withExtendedLifetime(context) {}
  }
}

private func kafkaLogCallback(
  _ rk: OpaquePointer?, _ level: Int32, _ facility: UnsafePointer<CChar>?,
  _ buf: UnsafePointer<CChar>?
) {
  guard let rk, let context = KafkaClientContext.from(rd_kafka_opaque(rk)) else { return }
  let swiftLevel: Logger.Level =
    switch level {
    case ...3: .error
    case 4: .warning
    case 5, 6: .info
    default: .debug
    }
  let text = buf.map { String(cString: $0) } ?? ""
  let fac = facility.map { String(cString: $0) } ?? ""
  context.logger.log(
    level: swiftLevel, "\(text)",
    metadata: ["rdkafka.facility": "\(fac)", "rdkafka.client": "\(String(cString: rd_kafka_name(rk)))"])
}

private func kafkaErrorCallback(
  _ rk: OpaquePointer?, _ err: Int32, _ reason: UnsafePointer<CChar>?,
  _ opaque: UnsafeMutableRawPointer?
) {
  guard let context = KafkaClientContext.from(opaque) else { return }
  let code = KafkaError.Code(rawValue: err)
  let text = reason.map { String(cString: $0) } ?? ""
  if code == .fatal, let rk {
    var errstr = [CChar](repeating: 0, count: 512)
    let underlying = rd_kafka_fatal_error(rk, &errstr, errstr.count)
    let message = String(decoding: errstr.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    let error = KafkaError(
      code: KafkaError.Code(underlying), message: "fatal: \(message)", isRetriable: false, isFatal: true)
    context.fatalError.withLock { $0 = error }
    context.logger.critical("librdkafka fatal error", metadata: ["error": "\(error)"])
    return
  }
  // Connection losses and the like: librdkafka recovers by itself; say so once per event.
  context.logger.warning("kafka: \(text)", metadata: ["code": "\(code.name)"])
}

private func kafkaStatisticsCallback(
  _ rk: OpaquePointer?, _ json: UnsafeMutablePointer<CChar>?, _ len: Int,
  _ opaque: UnsafeMutableRawPointer?
) -> Int32 {
  guard let context = KafkaClientContext.from(opaque), let json else { return 0 }
  let bytes = UnsafeRawBufferPointer(start: json, count: len)
  if let stats = KafkaStatistics.parse(Data(bytes)) {
    context.statistics.withLock { $0 = stats }
  } else {
    context.logger.debug("could not parse librdkafka statistics")
  }
  return 0  // 0: librdkafka frees the JSON buffer
}
