import Foundation
import SagaTestSupport
import Testing

/// Who can read the databases: nobody but sagad's user, whatever umask it was started with.
@Suite("state directory permissions", .timeLimit(.minutes(2)))
struct StatePermissionsTests {
  private func mode(_ path: String) throws -> Int {
    try #require(FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int)
  }

  @Test("started with umask 022 in a 0755 directory holding a 0644 file: 0700 and 0600 once it runs")
  func privateByDefault() async throws {
    let setup = try await ConfiguredDaemon.make()
    defer { setup.cleanUp() }
    let directory = setup.directory.path
    try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: directory)
    let stale = directory + "/points.sqlite"
    #expect(FileManager.default.createFile(atPath: stale, contents: nil, attributes: [.posixPermissions: 0o644]))
    // The child inherits this process's umask; make it the permissive default explicitly.
    let previous = umask(0o022)
    defer { umask(previous) }
    let daemon = try await setup.start()
    defer { daemon.killIfRunning() }
    #expect(try mode(directory) == 0o700)
    for name in ["payments.sqlite", "points.sqlite", "dlt.sqlite", "sagad.yaml"] {
      #expect(try mode(directory + "/" + name) == 0o600, "\(name)")
    }
    daemon.signal(SIGTERM)
    #expect(try await daemon.waitForExit(timeout: .seconds(30)) == 0)
  }

  @Test("state_dir_group that names no group refuses the start, naming the key")
  func unknownGroup() async throws {
    let setup = try await ConfiguredDaemon.make(extra: "state_dir_group: no-such-group-sagad")
    defer { setup.cleanUp() }
    let result = try await run(try sagadBinary(), ["check-config", "--config", setup.config])
    #expect(result.status == 64)
    #expect(result.stderr.contains("state_dir_group"), "\(result.stderr)")
  }
}
