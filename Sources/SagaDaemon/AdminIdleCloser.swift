import AdminProtocol
import NIOCore
import SagaCore
import Synchronization

/// Closes a connection that sent nothing for `timeout` (`admin.idle_timeout`), after telling
/// the peer why. It sits before the decoder, so any byte counts as activity and passes on
/// untouched. The timeout passes on `clock`, not on the event loop's timers, so that a test
/// advances a manual clock past it instead of waiting.
final class AdminIdleCloser: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  /// When the peer last sent something (or connected), read by the watching task.
  private final class Activity: Sendable {
    private let last: Mutex<SagaClock.Instant>
    init(_ now: SagaClock.Instant) { last = Mutex(now) }
    var instant: SagaClock.Instant { last.withLock { $0 } }
    func touch(_ now: SagaClock.Instant) { last.withLock { $0 = now } }
  }

  let timeout: Duration
  private let clock: SagaClock
  private var activity: Activity?
  /// Sleeps until the connection has been idle for `timeout`; cancelled when it closes.
  private var watcher: Task<Void, Never>?

  init(timeout: Duration, clock: SagaClock = .continuous) {
    self.timeout = timeout
    self.clock = clock
  }

  func handlerAdded(context: ChannelHandlerContext) {
    if context.channel.isActive { startWatching(context) }
  }

  func channelActive(context: ChannelHandlerContext) {
    startWatching(context)
    context.fireChannelActive()
  }

  func channelRead(context: ChannelHandlerContext, data: NIOAny) {
    activity?.touch(clock.now)
    context.fireChannelRead(data)
  }

  func channelInactive(context: ChannelHandlerContext) {
    stopWatching()
    context.fireChannelInactive()
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    stopWatching()
  }

  private func startWatching(_ context: ChannelHandlerContext) {
    guard activity == nil else { return }
    let activity = Activity(clock.now)
    self.activity = activity
    let (clock, timeout) = (self.clock, self.timeout)
    let eventLoop = context.eventLoop
    let bound = NIOLoopBound((self, context), eventLoop: eventLoop)
    watcher = Task {
      var deadline = activity.instant + timeout
      while true {
        do {
          try await clock.sleep(until: deadline)
        } catch {
          return  // the connection closed first
        }
        // Something was read meanwhile: idle only from then on.
        let next = activity.instant + timeout
        if next <= deadline { break }
        deadline = next
      }
      eventLoop.execute {
        let (handler, context) = bound.value
        handler.closeIdle(context)
      }
    }
  }

  private func stopWatching() {
    watcher?.cancel()
    watcher = nil
  }

  private func closeIdle(_ context: ChannelHandlerContext) {
    guard watcher != nil, context.channel.isActive else { return }
    watcher = nil
    let reply = AdminReply.final(.idleTimeout, "idle for \(timeout.components.seconds) s (admin.idle_timeout); closing")
    context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: reply.encoded()))).assumeIsolated().whenComplete {
      _ in
      context.close(promise: nil)
    }
  }
}
