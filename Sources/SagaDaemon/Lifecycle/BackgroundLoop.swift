import ServiceLifecycle

/// A loop that runs until cancelled (the watchdog, the lag sampler, the broker probe) as a
/// service of sagad's group: a graceful shutdown cancels it.
struct BackgroundLoop: Service {
  let body: @Sendable () async -> Void

  init(_ body: @escaping @Sendable () async -> Void) {
    self.body = body
  }

  func run() async {
    await cancelWhenGracefulShutdown(body)
  }
}
