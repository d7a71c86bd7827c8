import ServiceLifecycle
import UnixSignals

/// SIGHUP reloads the reloadable keys; SIGTERM and SIGINT belong to the service group
/// (`gracefulShutdownSignals`). Last in the group, so the first service a graceful
/// shutdown reaches: it tells `DaemonControl`, which refuses `pay` from then on and sends
/// STOPPING=1 before anything else stops.
struct SignalService: Service {
  let control: DaemonControl
  let reload: ConfigReload
  /// Trapped before the group starts: SIGHUP's default action would end the process.
  let hangups: UnixSignalsSequence

  func run() async {
    let reload = reload
    let control = control
    let hangups = hangups
    await withGracefulShutdownHandler {
      await cancelWhenGracefulShutdown {
        for await _ in hangups {
          _ = await reload.reload()
        }
      }
    } onGracefulShutdown: {
      control.shutdownBegan(signal: "SIGTERM or SIGINT")
    }
  }
}
