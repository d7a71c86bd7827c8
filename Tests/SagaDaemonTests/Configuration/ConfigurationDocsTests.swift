import Foundation
import Testing

@testable import SagaDaemon

@Suite("Docs/configuration.md follows the catalog", .timeLimit(.minutes(1)))
struct ConfigurationDocsTests {
  @Test("every key, with its environment variable, has a row in Docs/configuration.md")
  func everyKeyDocumented() throws {
    let docs = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
      .deletingLastPathComponent()
      .deletingLastPathComponent().appendingPathComponent("Docs/configuration.md")
    let text = try String(contentsOf: docs, encoding: .utf8)
    for key in DaemonConfigKey.all {
      let name = key.kind == .properties ? "`\(key.name).*`" : "`\(key.name)`"
      let row = text.split(separator: "\n").first { $0.hasPrefix("| \(name) |") }
      #expect(row != nil, "no row for \(key.name)")
      if key.kind != .properties { #expect(row?.contains(key.environmentName) == true, "\(key.name)") }
      #expect(row?.contains(key.reloadable ? "| **yes** |" : "| no |") == true, "reload column of \(key.name)")
    }
  }
}
