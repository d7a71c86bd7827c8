/// A reply line's four-digit code. The first digit is the class a client acts on
/// (`sagactl` maps it to its exit status); the others name the case so that scripts can
/// tell "not found" from "refused" without parsing English. Every code the server sends
/// is defined here and listed in Docs/admin-protocol.md.
public struct ReplyCode: RawRepresentable, Sendable, Hashable, Comparable, CustomStringConvertible {
  public let rawValue: Int

  public init?(rawValue: Int) {
    guard (0...9999).contains(rawValue) else { return nil }
    self.rawValue = rawValue
  }

  private init(_ value: Int) { rawValue = value }

  /// What the first digit says.
  public enum Class: Sendable, Hashable {
    /// `0xxx`: the command is done.
    case done
    /// `1xxx`: a data row.
    case data
    /// `2xxx`: a table header; the rows that follow belong to it.
    case header
    /// `8xxx`: the command was understood but failed.
    case runtimeError
    /// `9xxx`: the request was not understood.
    case usageError
    /// Any other first digit: reserved, treated as a runtime error by clients.
    case reserved
  }

  public var replyClass: Class {
    switch rawValue / 1000 {
    case 0: .done
    case 1: .data
    case 2: .header
    case 8: .runtimeError
    case 9: .usageError
    default: .reserved
    }
  }

  /// The code as sent: always four digits.
  public var description: String {
    let digits = String(rawValue)
    return String(repeating: "0", count: 4 - digits.count) + digits
  }

  public static func < (lhs: Self, rhs: Self) -> Bool { lhs.rawValue < rhs.rawValue }

  // MARK: 0xxx done
  /// The command succeeded; the text says what happened (`ok` when the rows say it all).
  public static let ok = ReplyCode(0)
  /// The connection banner: `sagad <version> proto=1 level=<level>`.
  public static let banner = ReplyCode(1)

  // MARK: 1xxx data
  /// A table row: cells separated by TAB.
  public static let row = ReplyCode(1000)
  /// A line of free text for people.
  public static let text = ReplyCode(1001)
  /// The whole JSON document of a `--json` request, on one line.
  public static let json = ReplyCode(1002)

  // MARK: 2xxx header
  /// A table header: column names separated by TAB.
  public static let header = ReplyCode(2000)

  // MARK: 8xxx runtime errors
  /// The command failed for a reason with no more specific code.
  public static let failed = ReplyCode(8000)
  /// The user, payment or other object named does not exist.
  public static let notFound = ReplyCode(8001)
  /// The service refused the change: insufficient balance, user exists, seat taken, …
  public static let refused = ReplyCode(8002)
  /// The peer's level does not allow the command, or the peer may not connect at all.
  public static let permissionDenied = ReplyCode(8003)
  /// The command needs a role (`payments`, `points`) this sagad does not run.
  public static let roleNotRunning = ReplyCode(8004)
  /// `admin.max_connections` connections are open already; this one is closed.
  public static let tooManyConnections = ReplyCode(8005)
  /// Storage or a broker is unavailable for now; the same request may succeed later.
  public static let unavailable = ReplyCode(8006)
  /// Nothing arrived for `admin.idle_timeout`; the connection is closed.
  public static let idleTimeout = ReplyCode(8007)
  /// `verify` found violations (listed in the rows before this line).
  public static let verifyFailed = ReplyCode(8008)
  /// sagad is shutting down and takes no more requests on this connection.
  public static let shuttingDown = ReplyCode(8009)

  // MARK: 9xxx usage errors
  /// Bad arguments: missing, unknown, repeated or malformed.
  public static let usage = ReplyCode(9000)
  /// No command of that name.
  public static let unknownCommand = ReplyCode(9001)
  /// The line exceeds `AdminProtocol.maximumLineLength`; the connection is closed.
  public static let lineTooLong = ReplyCode(9002)
  /// Unbalanced quotes or a trailing backslash.
  public static let badQuoting = ReplyCode(9003)
  /// Not UTF-8, or control characters other than TAB in the line.
  public static let badEncoding = ReplyCode(9004)
}
