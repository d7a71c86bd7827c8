import AdminProtocol
import Foundation
import SagaStorage

/// `status`'s storage part (Docs/storage-engines.md): the engine and, on PostgreSQL, the
/// instances sharing the database and the holder of each lease.
extension AdminCommands {
  /// The leases of this node's roles, as `OutboxRelay` and `StuckSagaSweeper` name them.
  private var leaseNames: [String] {
    relays.map { "relay \($0.name)" } + (payments == nil ? [] : ["sweeper payments"])
  }

  func storageDocument(error: String?) async -> AdminJSON.Storage? {
    guard let database = payments?.database.storage ?? points?.database.storage else { return nil }
    guard database.engine == .postgres else {
      return AdminJSON.Storage(
        engine: "sqlite", location: URL(fileURLWithPath: database.path).deletingLastPathComponent().path,
        reachable: error == nil, lastError: error, instance: nil, instances: [], leases: [])
    }
    let location = database.path
    do {
      let report = try await database.report(leases: leaseNames) ?? StorageReport(instances: [], holders: [:])
      let instance = NodeStorage.instanceName
      return AdminJSON.Storage(
        engine: "postgres", location: location, reachable: error == nil, lastError: error, instance: instance,
        instances: report.instances,
        leases: leaseNames.map { name in
          AdminJSON.Storage.Lease(name: name, holder: report.holders[name], heldHere: report.holders[name] == instance)
        })
    } catch {
      return AdminJSON.Storage(
        engine: "postgres", location: location, reachable: false, lastError: "\(error)",
        instance: NodeStorage.instanceName,
        instances: [], leases: [])
    }
  }

  static func storageLines(_ out: inout ReplyBuilder, _ storage: AdminJSON.Storage) {
    let state = storage.reachable ? "" : " UNREACHABLE: \(storage.lastError ?? "")"
    guard storage.engine == "postgres" else {
      out.text("storage: SQLite in \(storage.location)\(state)")
      return
    }
    out.text("storage: PostgreSQL \(storage.location)\(state)")
    if let instance = storage.instance {
      out.text("instances: \(storage.instances.joined(separator: ", ")) (this one: \(instance))")
    }
    guard !storage.leases.isEmpty else { return }
    out.header(["LEASE", "HOLDER"])
    for lease in storage.leases {
      out.row([lease.name, (lease.holder ?? "-") + (lease.heldHere ? " (this instance)" : "")])
    }
  }
}
