/// What `status` shows of a database shared by several instances (PostgreSQL): the sagad
/// instances with a session open on it and who holds each lease.
public struct StorageReport: Sendable, Equatable {
  /// The `application_name` of every sagad session on the database (`sagad@host:pid`).
  public var instances: [String]
  /// Lease name → the instance holding it; a lease nobody holds is absent.
  public var holders: [String: String]

  public init(instances: [String], holders: [String: String]) {
    self.instances = instances
    self.holders = holders
  }
}

extension SagaDatabase {
  /// The instances on this database and the holders of `leases`; nil on SQLite (one instance).
  public func report(leases: [String]) async throws -> StorageReport? {
    guard engine == .postgres else { return nil }
    return try await read { db in
      let instances = try db.query(
        """
        SELECT DISTINCT application_name FROM pg_stat_activity
        WHERE datname = current_database() AND application_name LIKE 'sagad@%' ORDER BY 1
        """
      ).map { try $0.decode(0, as: String.self) }
      var holders: [String: String] = [:]
      for lease in leases {
        // A bigint advisory key is stored as two oids: the high and the low 32 bits.
        let holder = try db.value(
          String.self,
          """
          SELECT a.application_name FROM pg_locks l JOIN pg_stat_activity a ON a.pid = l.pid
          WHERE l.locktype = 'advisory' AND l.granted AND l.objsubid = 1
            AND l.database = (SELECT oid FROM pg_database WHERE datname = current_database())
            AND ((l.classid::bigint << 32) | l.objid::bigint) = hashtext(?)::bigint
          """, [PostgresLease.key(lease)])
        if let holder { holders[lease] = holder }
      }
      return StorageReport(instances: instances, holders: holders)
    }
  }
}
