import Foundation
import Synchronization

/// The cluster `initdb` makes, made once per test process and copied for every in-memory
/// server (``PostgresServer/start(durable:)``): a run starts a server per suite, and a copy
/// on tmpfs costs a tenth of an initdb. The template is removed when the process exits.
actor PostgresClusterTemplate {
  static let shared = PostgresClusterTemplate()

  /// The template's data directory, once made (or what failed, for every later caller).
  private var made: Task<String, any Error>?

  /// The template's data directory, made with `initdb` on first use.
  func dataDirectory(initdb: @escaping @Sendable (String) async throws -> Void) async throws -> String {
    if let made { return try await made.value }
    let making = Task<String, any Error> {
      let directory = try TemporaryDirectory.inMemory()
      Self.removedAtExit(directory)
      let data = try PostgresServer.makeDataDirectory(in: directory, owner: try PostgresServer.serverUser())
      try await initdb(data)
      return data
    }
    made = making
    return try await making.value
  }

  /// Keeps `directory` for the process's life (it would go with its last reference) and
  /// removes it at exit, which no deinitialiser of a static value does.
  private static func removedAtExit(_ directory: TemporaryDirectory) {
    templateDirectory.withLock { $0 = directory }
    atexit {
      templateDirectory.withLock { directory in
        if let directory { try? FileManager.default.removeItem(at: directory.url) }
      }
    }
  }
}

/// The template's directory, for the exit handler (a C function: it captures nothing).
private let templateDirectory = Mutex<TemporaryDirectory?>(nil)
