import AdminProtocol
import NIOCore

#if canImport(Glibc)
  import Glibc
#elseif canImport(Darwin)
  import Darwin
#endif

/// Who is at the other end of an accepted admin connection, as the kernel reports it.
struct PeerCredentials: Sendable, Hashable, CustomStringConvertible {
  var pid: Int32
  var uid: UInt32
  var gid: UInt32

  var description: String { "uid \(uid) pid \(pid)" }

  /// `SO_PEERCRED` of `channel`, read once at accept: the credentials of the process that
  /// connected, which a client cannot forge (unlike anything it could send). Nil where
  /// the kernel has no such option (the daemon targets Linux).
  static func of(_ channel: any Channel) -> EventLoopFuture<PeerCredentials?> {
    #if os(Linux)
      guard let provider = channel as? any SocketOptionProvider else {
        return channel.eventLoop.makeSucceededFuture(nil)
      }
      // Glibc hides `struct ucred` behind _GNU_SOURCE; a tuple of its three fields has
      // the same layout (pid_t, uid_t, gid_t: three 32-bit integers).
      let future: EventLoopFuture<(pid_t, uid_t, gid_t)> = provider.unsafeGetSocketOption(
        level: SocketOptionLevel(SOL_SOCKET), name: SocketOptionName(SO_PEERCRED))
      return future.map { PeerCredentials(pid: $0.0, uid: $0.1, gid: $0.2) }.recover { _ in nil }
    #else
      return channel.eventLoop.makeSucceededFuture(nil)
    #endif
  }
}

/// The rule for levels (Docs/admin-protocol.md, "Connecting"): root or the daemon's own uid → admin; a member of
/// `admin.operator_groups` → operate; of `admin.read_groups` → read; anyone else is
/// refused. The socket's mode 0660 is a first gate; this one holds even if the mode or
/// the directory's permissions are wrong.
struct AdminAccessPolicy: Sendable {
  var daemonUID: UInt32
  var operatorGroups: [String]
  var readGroups: [String]
  /// The group ids of a peer: its primary group and the supplementary groups of its user.
  /// Injected by tests, which cannot create users.
  var groupsOf: @Sendable (PeerCredentials) -> Set<UInt32> = Self.systemGroups(of:)
  /// Group names (or numbers) to ids; unknown names resolve to nil.
  var groupID: @Sendable (String) -> UInt32? = Self.systemGroupID(named:)

  init(settings: AdminSettings, daemonUID: UInt32 = UInt32(getuid())) {
    self.daemonUID = daemonUID
    self.operatorGroups = settings.operatorGroups
    self.readGroups = settings.readGroups
  }

  /// The level for `peer`, or why it is refused.
  func level(for peer: PeerCredentials?) -> Result<PermissionLevel, AdminProtocolError> {
    guard let peer else {
      return .failure(AdminProtocolError(.permissionDenied, "permission denied: the peer's credentials are unknown"))
    }
    if peer.uid == 0 || peer.uid == daemonUID { return .success(.admin) }
    let groups = groupsOf(peer)
    if operatorGroups.contains(where: { groupID($0).map(groups.contains) == true }) { return .success(.operate) }
    if readGroups.contains(where: { groupID($0).map(groups.contains) == true }) { return .success(.read) }
    let configured = (operatorGroups + readGroups).joined(separator: ", ")
    return .failure(
      AdminProtocolError(
        .permissionDenied,
        "permission denied: uid \(peer.uid) is neither root nor sagad's user and in none of admin.operator_groups,"
          + " admin.read_groups (\(configured.isEmpty ? "none configured" : configured))"))
  }

  static func systemGroupID(named name: String) -> UInt32? {
    if let number = UInt32(name) { return number }
    var group = group()
    var result: UnsafeMutablePointer<group>?
    var buffer = [CChar](repeating: 0, count: 16_384)
    guard getgrnam_r(name, &group, &buffer, buffer.count, &result) == 0, result != nil else { return nil }
    return UInt32(group.gr_gid)
  }

  static func systemGroups(of peer: PeerCredentials) -> Set<UInt32> {
    var groups: Set<UInt32> = [peer.gid]
    var passwd = passwd()
    var result: UnsafeMutablePointer<passwd>?
    var buffer = [CChar](repeating: 0, count: 16_384)
    guard getpwuid_r(uid_t(peer.uid), &passwd, &buffer, buffer.count, &result) == 0, result != nil,
      let name = passwd.pw_name
    else { return groups }
    var count: Int32 = 256
    var list = [gid_t](repeating: 0, count: Int(count))
    #if canImport(Darwin)
      var signed = list.map { Int32(bitPattern: $0) }
      if getgrouplist(name, Int32(bitPattern: passwd.pw_gid), &signed, &count) != -1 {
        groups.formUnion(signed.prefix(Int(count)).map { UInt32(bitPattern: $0) })
      }
    #else
      if getgrouplist(name, passwd.pw_gid, &list, &count) != -1 {
        groups.formUnion(list.prefix(Int(count)).map { UInt32($0) })
      }
    #endif
    return groups
  }
}
