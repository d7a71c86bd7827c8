import SagaCore
import ServiceLifecycle

/// Holds the drain to `shutdown.timeout` (Docs/design.md, "Shutdown"). First in sagad's
/// service group, so the group stops it last: its own graceful shutdown means every other
/// service has finished. If `timeout` passes after the shutdown began and that has not
/// happened, it reports what was pending (`DaemonControl.drainTimedOut`, exit status 1),
/// and the group's `maximumGracefulShutdownDuration` (`timeout + escalationDelay`) then
/// cancels what still runs.
struct ShutdownDeadline: Service {
  /// Between the report and the group's cancellation: the report names the tasks as they
  /// were when the deadline passed, before cancellation unwinds them.
  static let escalationDelay: Duration = .seconds(1)

  let control: DaemonControl
  let timeout: Duration
  var clock: SagaClock = .continuous

  func run() async {
    let control = control
    let timeout = timeout
    let clock = clock
    await cancelWhenGracefulShutdown {
      await control.waitForShutdown()
      guard !Task.isCancelled else { return }
      do {
        try await clock.sleep(for: timeout)
      } catch {
        return  // every other service finished in time (or the group was cancelled)
      }
      control.drainTimedOut()
      // Returning now would end the group as a service that finished out of turn; wait
      // for the cancellation instead.
      while !Task.isCancelled { try? await clock.sleep(for: timeout) }
    }
  }
}
