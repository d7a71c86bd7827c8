import Testing

@testable import SagaDaemon

@Suite("admin.* configuration keys", .timeLimit(.minutes(2)))
struct AdminConfigurationTests {
  private func load(dev: Bool = true, _ environment: [String: String]) async throws -> AdminSettings {
    var environment = environment
    if !dev { environment["SAGAD_KAFKA_BROKERS"] = "localhost:9092" }
    return try await DaemonConfiguration.load(file: nil, dev: dev, environment: environment).admin
  }

  @Test("defaults: the socket in the state directory with --dev, under /run otherwise")
  func defaults() async throws {
    let dev = try await load(["SAGAD_STATE_DIR": "/tmp/x"])
    #expect(dev.socketPath == "/tmp/x/sagad.sock")
    #expect(dev.idleTimeout == .seconds(300))
    #expect(dev.maxConnections == 32)
    #expect(dev.operatorGroups.isEmpty && dev.readGroups.isEmpty)
    #expect(try await load(dev: false, [:]).socketPath == "/run/sagad/sagad.sock")
  }

  @Test("environment overrides, lists as comma-separated strings")
  func overrides() async throws {
    let admin = try await load([
      "SAGAD_ADMIN_SOCKET": "/tmp/a.sock", "SAGAD_ADMIN_IDLE_TIMEOUT": "5", "SAGAD_ADMIN_MAX_CONNECTIONS": "3",
      "SAGAD_ADMIN_OPERATOR_GROUPS": "ops, wheel", "SAGAD_ADMIN_READ_GROUPS": "1500",
    ])
    #expect(admin.socketPath == "/tmp/a.sock")
    #expect(admin.idleTimeout == .seconds(5))
    #expect(admin.maxConnections == 3)
    #expect(admin.operatorGroups == ["ops", "wheel"])
    #expect(admin.readGroups == ["1500"])
  }

  @Test("a bad value names its key")
  func invalid() async throws {
    let cases = [
      ("SAGAD_ADMIN_MAX_CONNECTIONS", "0", "admin.max_connections"),
      ("SAGAD_ADMIN_IDLE_TIMEOUT", "soon", "admin.idle_timeout"),
      ("SAGAD_ADMIN_SOCKET", "/" + String(repeating: "s", count: 120), "admin.socket"),
    ]
    for (variable, value, key) in cases {
      do {
        _ = try await load([variable: value])
        Issue.record("\(variable)=\(value) was accepted")
      } catch let error as DaemonConfiguration.Invalid {
        #expect(error.key == key)
      }
    }
  }
}
