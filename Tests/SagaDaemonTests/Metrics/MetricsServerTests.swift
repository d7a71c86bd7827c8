import Foundation
import Logging
import SagaTestSupport
import Synchronization
import Testing

@testable import SagaDaemon

#if canImport(FoundationNetworking)
  import FoundationNetworking
#endif

/// The HTTP side of `metrics.listen` in-process, with a stand-in scrape and readiness:
/// routes, status codes, content type, HEAD, and the address file for port 0.
@Suite("metrics HTTP server", .timeLimit(.minutes(1)))
struct MetricsServerTests {
  private func request(_ method: String, _ url: String) async throws -> (status: Int, type: String?, body: String) {
    var request = URLRequest(url: try #require(URL(string: url)))
    request.httpMethod = method
    let (data, response) = try await URLSession.shared.data(for: request)
    let http = try #require(response as? HTTPURLResponse)
    return (http.statusCode, http.value(forHTTPHeaderField: "Content-Type"), String(decoding: data, as: UTF8.self))
  }

  @Test("/metrics, /healthz, /readyz 503 then 200, 404, 405, HEAD; the bound port in the address file")
  func routes() async throws {
    let directory = try TemporaryDirectory()
    let addressFile = directory.path + "/metrics-address"
    let ready = Mutex(false)
    let server = MetricsServer(
      settings: MetricsSettings(host: "127.0.0.1", port: 0, enabled: true), addressFile: addressFile,
      scrape: { Array("# HELP x_total X.\n# TYPE x_total counter\nx_total 1\n".utf8) },
      readiness: {
        ready.withLock { $0 }
          ? .init(ready: true, detail: "ready: 1 tasks running") : .init(ready: false, detail: "not ready: w backoff")
      },
      logger: Logger(label: "test"))
    let running = Task { try await server.run() }
    defer { running.cancel() }
    try await eventually("the address file", timeout: .seconds(60)) {
      FileManager.default.fileExists(atPath: addressFile)
    }
    let address = try String(contentsOfFile: addressFile, encoding: .utf8)
      .trimmingCharacters(in: .whitespacesAndNewlines)
    #expect(address == server.address)
    #expect(address.hasPrefix("127.0.0.1:") && !address.hasSuffix(":0"))
    let base = "http://\(address)"

    let metrics = try await request("GET", base + "/metrics")
    #expect(metrics.status == 200)
    #expect(metrics.type == "text/plain; version=0.0.4; charset=utf-8")
    #expect(metrics.body.hasSuffix("x_total 1\n"))
    #expect(try await request("GET", base + "/metrics?debug=1").status == 200)
    #expect(try await request("GET", base + "/healthz").status == 200)

    let notReady = try await request("GET", base + "/readyz")
    #expect(notReady.status == 503)
    #expect(notReady.body.contains("w backoff"))
    ready.withLock { $0 = true }
    #expect(try await request("GET", base + "/readyz").status == 200)

    #expect(try await request("GET", base + "/other").status == 404)
    #expect(try await request("POST", base + "/metrics").status == 405)
    let head = try await request("HEAD", base + "/metrics")
    #expect(head.status == 200 && head.body.isEmpty)
  }
}
