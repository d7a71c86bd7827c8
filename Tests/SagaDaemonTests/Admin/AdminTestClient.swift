import AdminProtocol
import Foundation

/// `AdminClient` with every blocking call moved to a thread of its own. The cooperative
/// pool may have as few threads as the machine has cores; a test blocked in `read()` on
/// one of them can starve the very server task it is waiting for.
final class AdminTestClient: @unchecked Sendable {
  // Unchecked: each test drives its client from one task, one awaited call at a time.
  private let client: AdminClient

  private init(_ client: AdminClient) { self.client = client }

  static func connect(_ socket: String, timeout: Duration = .seconds(10)) async throws(AdminClientError)
    -> AdminTestClient
  {
    try await offPool { () throws(AdminClientError) in
      AdminTestClient(try AdminClient(socketPath: socket, timeout: timeout))
    }
  }

  var banner: ReplyLine { client.banner }
  var level: PermissionLevel? { client.level }

  func send(_ line: String) async throws(AdminClientError) -> AdminReply {
    try await offPool { () throws(AdminClientError) in try self.client.send(line: line) }
  }

  func write(_ bytes: [UInt8]) async throws(AdminClientError) {
    try await offPool { () throws(AdminClientError) in try self.client.write(bytes) }
  }

  func readReply() async throws(AdminClientError) -> AdminReply {
    try await offPool { () throws(AdminClientError) in try self.client.readReply() }
  }

  func close() { client.close() }
}

/// Runs `body` on a new thread and waits for it without holding a pool thread.
func offPool<T: Sendable>(_ body: @escaping @Sendable () throws(AdminClientError) -> T) async throws(AdminClientError)
  -> T
{
  let result: Result<T, AdminClientError> = await withCheckedContinuation { continuation in
    Thread.detachNewThread {
      do throws(AdminClientError) {
        continuation.resume(returning: .success(try body()))
      } catch {
        continuation.resume(returning: .failure(error))
      }
    }
  }
  return try result.get()
}
