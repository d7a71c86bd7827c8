/// The admin line protocol shared by the server in `sagad` and the `sagactl` client
/// (Docs/admin-protocol.md). It needs nothing but the standard library and
/// libc: the NIO framing lives with the server in SagaDaemon, so `sagactl` stays small.
public enum AdminProtocol {
  /// Protocol revision announced in the connection banner (`proto=1`).
  public static let protocolVersion = 1
  /// Version of the tools built from this tree; kept equal to `SagaCore.version`.
  public static let toolVersion = "0.1.0"
  /// The longest request line, in bytes before the newline (a CR before it is not
  /// counted). A fixed bound lets the server refuse a hostile stream early instead of
  /// buffering it.
  public static let maximumLineLength = 4096
  /// The most requests one connection may have unanswered: past it the server reads no more
  /// of that connection until replies go out, so a client that pipelines deeper only waits.
  public static let pipelineDepth = 64

  /// The banner's text after the code: `sagad <version> proto=1 level=<level>`.
  public static func bannerText(version: String, level: PermissionLevel) -> String {
    "sagad \(version) proto=\(protocolVersion) level=\(level)"
  }
}

/// How much a peer may do. Ordered: every level may do what the levels below it may.
public enum PermissionLevel: Int, Sendable, Hashable, Comparable, CaseIterable, CustomStringConvertible {
  /// Look only: help, status, balances, payments, verify.
  case read = 1
  /// Also change business state: users, charges, payments.
  case operate = 2
  /// Also control the daemon itself (root or sagad's own user).
  case admin = 3

  public init?(name: String) {
    guard let level = Self.allCases.first(where: { $0.description == name }) else { return nil }
    self = level
  }

  public var description: String {
    switch self {
    case .read: "read"
    case .operate: "operate"
    case .admin: "admin"
    }
  }

  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }
}
