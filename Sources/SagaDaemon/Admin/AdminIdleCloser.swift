import AdminProtocol
import NIOCore
import SagaCore
import Synchronization

/// Closes a connection that holds a slot without using it, after telling the peer why:
/// * nothing sent for `timeout` (`admin.idle_timeout`);
/// * a request line begun but not finished within `requestTimeout` (`admin.request_timeout`):
///   trickled bytes do not extend it, so one byte every few minutes cannot keep a slot;
/// * open for `maxSession` (`admin.max_session`), whatever it sends.
/// It sits before the decoder, so it sees every byte and passes them on untouched. The
/// deadlines pass on `clock`, not on the event loop's timers, so that a test advances a
/// manual clock past them instead of waiting.
final class AdminIdleCloser: ChannelInboundHandler, RemovableChannelHandler {
  typealias InboundIn = ByteBuffer
  typealias OutboundOut = ByteBuffer

  /// What the watching task reads: when the peer last sent something, when the unfinished
  /// line began (nil between lines), and when the connection opened.
  private final class Activity: Sendable {
    struct Marks {
      var lastRead: SagaClock.Instant
      var lineStart: SagaClock.Instant?
      let opened: SagaClock.Instant
    }
    private let marks: Mutex<Marks>
    init(_ now: SagaClock.Instant) { marks = Mutex(Marks(lastRead: now, lineStart: nil, opened: now)) }
    var current: Marks { marks.withLock { $0 } }

    /// `bytes` arrived at `now`: a newline ends the line in progress, bytes after the last
    /// one begin the next. Returns whether a line began, which brings a deadline forward.
    func read(_ bytes: ByteBuffer, at now: SagaClock.Instant) -> Bool {
      let newline = UInt8(ascii: "\n")
      let view = bytes.readableBytesView
      return marks.withLock { marks in
        marks.lastRead = now
        let before = marks.lineStart
        if let last = view.lastIndex(of: newline) {
          marks.lineStart = last == view.index(before: view.endIndex) ? nil : now
        } else if marks.lineStart == nil, !view.isEmpty {
          marks.lineStart = now
        }
        return marks.lineStart != nil && marks.lineStart != before
      }
    }
  }

  /// Which deadline ran out, for the reply.
  private enum Expiry: Sendable {
    case idle
    case request
    case session
  }

  let timeout: Duration
  let requestTimeout: Duration
  let maxSession: Duration
  private let clock: SagaClock
  private var activity: Activity?
  /// Sleeps until a deadline passes; cancelled when the connection closes.
  private var watcher: Task<Void, Never>?

  init(
    timeout: Duration, requestTimeout: Duration = .seconds(10), maxSession: Duration = .seconds(3600),
    clock: SagaClock = .continuous
  ) {
    self.timeout = timeout
    self.requestTimeout = requestTimeout
    self.maxSession = maxSession
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
    if let activity, activity.read(unwrapInboundIn(data), at: clock.now) {
      // The watcher sleeps toward a later deadline: start it again from the line's.
      stopWatching()
      watch(activity, context)
    }
    context.fireChannelRead(data)
  }

  func channelInactive(context: ChannelHandlerContext) {
    stopWatching()
    context.fireChannelInactive()
  }

  func handlerRemoved(context: ChannelHandlerContext) {
    stopWatching()
  }

  /// The earliest deadline of `marks`, and which it is.
  private static func deadline(
    _ marks: Activity.Marks, idle: Duration, request: Duration, session: Duration
  ) -> (SagaClock.Instant, Expiry) {
    var earliest = (marks.lastRead + idle, Expiry.idle)
    if let start = marks.lineStart, start + request < earliest.0 { earliest = (start + request, .request) }
    if marks.opened + session < earliest.0 { earliest = (marks.opened + session, .session) }
    return earliest
  }

  private func startWatching(_ context: ChannelHandlerContext) {
    guard activity == nil else { return }
    let activity = Activity(clock.now)
    self.activity = activity
    watch(activity, context)
  }

  /// Starts the task that sleeps until the earliest deadline and closes the connection then.
  private func watch(_ activity: Activity, _ context: ChannelHandlerContext) {
    let clock = self.clock
    let eventLoop = context.eventLoop
    let bound = NIOLoopBound((self, context), eventLoop: eventLoop)
    let (idle, request, session) = (timeout, requestTimeout, maxSession)
    let deadlines: @Sendable () -> (SagaClock.Instant, Expiry) = {
      Self.deadline(activity.current, idle: idle, request: request, session: session)
    }
    watcher = Task {
      var (deadline, _) = deadlines()
      var expiry = Expiry.idle
      while true {
        do {
          try await clock.sleep(until: deadline)
        } catch {
          return  // the connection closed first
        }
        // Something was read meanwhile: the deadlines may have moved.
        let (next, which) = deadlines()
        if next <= deadline {
          expiry = which
          break
        }
        deadline = next
      }
      let reason = expiry
      eventLoop.execute {
        let (handler, context) = bound.value
        handler.close(context, reason)
      }
    }
  }

  private func stopWatching() {
    watcher?.cancel()
    watcher = nil
  }

  private func close(_ context: ChannelHandlerContext, _ expiry: Expiry) {
    guard watcher != nil, context.channel.isActive else { return }
    watcher = nil
    let text =
      switch expiry {
      case .idle: "idle for \(timeout.components.seconds) s (admin.idle_timeout); closing"
      case .request:
        "request line not finished within \(requestTimeout.components.seconds) s (admin.request_timeout); closing"
      case .session: "connection open for \(maxSession.components.seconds) s (admin.max_session); closing"
      }
    let reply = AdminReply.final(.idleTimeout, text)
    context.writeAndFlush(wrapOutboundOut(ByteBuffer(string: reply.encoded()))).assumeIsolated().whenComplete {
      _ in
      context.close(promise: nil)
    }
  }
}
