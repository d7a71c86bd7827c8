import Foundation
import Prometheus
import Synchronization

/// The standard `process_*` metrics of the Prometheus client libraries, read from /proc
/// at scrape time (Linux only; elsewhere they are left out).
final class ProcessMetrics: Sendable {
  /// Kernel clock ticks per second (`sysconf(_SC_CLK_TCK)`), the unit of /proc CPU times.
  private let ticksPerSecond = Double(sysconf(Int32(_SC_CLK_TCK)))
  private let pageSize = Double(sysconf(Int32(_SC_PAGESIZE)))
  /// When the process started, seconds since the epoch: boot time + start ticks.
  private let startTime: Double?
  /// CPU seconds already added to `process_cpu_seconds_total`.
  private let cpuCounted = Mutex<Double>(0)

  init() {
    let stat = Self.statFields()
    let bootTime = (try? String(contentsOfFile: "/proc/stat", encoding: .utf8))?
      .split(separator: "\n").first { $0.hasPrefix("btime ") }
      .flatMap { Double($0.dropFirst("btime ".count)) }
    if let stat, stat.count > 19, let started = Double(stat[19]), let bootTime {
      startTime = bootTime + started / ticksPerSecond
    } else {
      startTime = nil
    }
  }

  func collect(into registry: PrometheusCollectorRegistry) {
    if let startTime {
      registry.gauge(
        "process_start_time_seconds", help: "Start time of the process since unix epoch in seconds"
      ).set(to: startTime)
    }
    if let stat = Self.statFields(), stat.count > 21 {
      // proc(5) numbers the fields from 1, the command is field 2: utime 14, stime 15,
      // starttime 22, vsize 23, rss 24 are at index n - 3 here.
      if let user = Double(stat[11]), let system = Double(stat[12]) {
        let cpu = registry.counter("process_cpu_seconds_total", help: "Total user and system CPU time spent in seconds")
        let total = (user + system) / ticksPerSecond
        let growth = cpuCounted.withLock { counted in
          defer { counted = max(counted, total) }
          return total - counted
        }
        if growth > 0 { cpu.increment(by: growth) }
      }
      if let virtual = Double(stat[20]) {
        registry.gauge("process_virtual_memory_bytes", help: "Virtual memory size in bytes").set(to: virtual)
      }
      if let pages = Double(stat[21]) {
        registry.gauge("process_resident_memory_bytes", help: "Resident memory size in bytes")
          .set(to: pages * pageSize)
      }
    }
    if let open = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") {
      registry.gauge("process_open_fds", help: "Number of open file descriptors").set(to: Double(open.count))
    }
    var limit = rlimit()
    if getrlimit(Int32(RLIMIT_NOFILE.rawValue), &limit) == 0 {
      registry.gauge("process_max_fds", help: "Maximum number of open file descriptors")
        .set(to: Double(limit.rlim_cur))
    }
  }

  /// /proc/self/stat after the command name (which may hold spaces and parentheses):
  /// index 0 is the state, field 3 of proc(5).
  private static func statFields() -> [Substring]? {
    guard let text = try? String(contentsOfFile: "/proc/self/stat", encoding: .utf8),
      let close = text.lastIndex(of: ")")
    else { return nil }
    return text[text.index(after: close)...].split(separator: " ")
  }
}
