import Foundation
import SagaTestSupport

/// `Tests/Peers/otlp_receiver.py` as a child process: an OTLP/HTTP trace receiver that decodes
/// sagad's exports with OpenTelemetry's own protobuf definitions (PyPI's opentelemetry-proto,
/// in the venv `scripts/install-deps.sh` makes) and writes one JSON line per span.
struct OTLPReceiverProcess {
  /// One span as the receiver decoded it.
  struct Span: Decodable, Sendable {
    var traceId: String
    var spanId: String
    var parentSpanId: String
    var name: String
    /// `SPAN_KIND_SERVER`, `SPAN_KIND_PRODUCER`, `SPAN_KIND_CONSUMER`, `SPAN_KIND_INTERNAL`.
    var kind: String
    var attributes: [String: AttributeValue]
    var resource: [String: AttributeValue]
    var status: Status
    var events: [Event]

    struct Status: Decodable, Sendable {
      /// 0 unset, 1 ok, 2 error.
      var code: Int
      var message: String
    }

    struct Event: Decodable, Sendable {
      var name: String
    }

    func text(_ key: String) -> String? { attributes[key]?.text }
  }

  /// An attribute's value: text, a number or a flag, as JSON gives it.
  enum AttributeValue: Decodable, Sendable, Equatable {
    case text(String)
    case number(Double)
    case flag(Bool)
    case other

    init(from decoder: any Decoder) throws {
      let container = try decoder.singleValueContainer()
      if let flag = try? container.decode(Bool.self) {
        self = .flag(flag)
      } else if let number = try? container.decode(Double.self) {
        self = .number(number)
      } else if let text = try? container.decode(String.self) {
        self = .text(text)
      } else {
        self = .other
      }
    }

    var text: String? {
      switch self {
      case .text(let text): text
      case .number(let number): number == number.rounded() ? String(Int64(number)) : String(number)
      case .flag(let flag): String(flag)
      case .other: nil
      }
    }
  }

  let child: ChildProcess
  let directory: TemporaryDirectory
  let port: Int
  var endpoint: String { "http://127.0.0.1:\(port)" }
  var spansFile: String { directory.path + "/spans.jsonl" }

  /// The venv `scripts/install-deps.sh` makes for the receiver.
  static var python: URL {
    let environment = ProcessInfo.processInfo.environment
    let cache =
      environment["SAGAD_PEERS_VENV"]
      ?? ((environment["XDG_CACHE_HOME"] ?? (NSHomeDirectory() + "/.cache")) + "/sagad/otlp-peer")
    return URL(fileURLWithPath: cache + "/bin/python")
  }

  /// Starts the receiver and waits until it listens.
  static func start() async throws -> OTLPReceiverProcess {
    guard FileManager.default.isExecutableFile(atPath: python.path) else {
      throw TestFailure("no OTLP receiver venv at \(python.path): run scripts/install-deps.sh")
    }
    let directory = try TemporaryDirectory()
    let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
      .appendingPathComponent("Peers/otlp_receiver.py")
    let portFile = directory.path + "/port"
    let child = try ChildProcess(
      python, ["-u", script.path, portFile, directory.path + "/spans.jsonl"], pipeStdin: false,
      environment: ["PYTHONDONTWRITEBYTECODE": "1"])
    do {
      var port: Int?
      try await eventually("the OTLP receiver to listen", timeout: .seconds(30)) {
        guard child.isRunning else { throw TestFailure("otlp_receiver exited:\n\(child.stderr.text)") }
        port = (try? String(contentsOfFile: portFile, encoding: .utf8)).flatMap { Int($0) }
        return port != nil
      }
      return OTLPReceiverProcess(child: child, directory: directory, port: port!)
    } catch {
      child.killIfRunning()
      throw error
    }
  }

  /// Every span received so far.
  func spans() throws -> [Span] {
    let text = (try? String(contentsOfFile: spansFile, encoding: .utf8)) ?? ""
    let decoder = JSONDecoder()
    return try text.split(separator: "\n").map { try decoder.decode(Span.self, from: Data($0.utf8)) }
  }

  /// The spans of trace `traceId`.
  func trace(_ traceId: String) throws -> [Span] { try spans().filter { $0.traceId == traceId } }

  func stop() { child.signal(SIGTERM) }
}
