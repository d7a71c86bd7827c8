import AdminProtocol
import SagaCore
import SagaRuntime

/// `pause`, `resume`, `restart` and the supervised tasks in `workers` and `status`
/// (Docs/operations-recovery.md, "Supervision").
extension AdminCommands {
  func taskCommand(_ request: AdminRequest) async throws -> AdminReply {
    guard let supervisor else {
      throw AdminProtocolError(.unavailable, "this process runs no supervised tasks")
    }
    let name = request.text("worker") ?? ""
    guard supervisor.snapshot(name) != nil else {
      let names = supervisor.snapshots().map(\.name).joined(separator: ", ")
      throw AdminProtocolError(.notFound, "no task named '\(name)'; tasks: \(names)")
    }
    let done: String
    switch request.command {
    case .pause:
      try await supervisor.pause(name)
      done = "\(name) paused: it keeps its partitions and fetches nothing until `resume \(name)`"
    case .resume:
      try await supervisor.resume(name)
      done = "\(name) resumed"
    default:
      try supervisor.restart(name)
      done = "\(name) restarting"
    }
    guard let snapshot = supervisor.snapshot(name) else { return .final(.ok, done) }
    if request.json { return try Self.json(AdminJSON.TaskChanged(task: Self.document(snapshot)), text: done) }
    return .final(.ok, done)
  }

  /// Every supervised task, in start order; empty without a supervisor.
  func taskDocuments() -> [AdminJSON.Task] {
    supervisor?.snapshots().map(Self.document) ?? []
  }

  func tasksTable(_ out: inout ReplyBuilder, _ tasks: [AdminJSON.Task]) {
    guard !tasks.isEmpty else { return }
    out.header(["TASK", "KIND", "STATE", "RESTARTS", "LAST ERROR", "AT", "NEXT START"])
    for task in tasks {
      out.row([
        task.name, task.kind, task.state, String(task.restarts), task.lastError ?? "-", task.lastErrorAt ?? "-",
        task.nextStartAt ?? "-",
      ])
    }
  }

  static func document(_ snapshot: SupervisedTaskSnapshot) -> AdminJSON.Task {
    AdminJSON.Task(
      name: snapshot.name, kind: snapshot.kind.rawValue, state: snapshot.state.rawValue, restarts: snapshot.restarts,
      lastError: snapshot.lastError, lastErrorAt: snapshot.lastErrorAt.map(RFC3339Timestamp.format),
      nextStartAt: snapshot.nextStartAt.map(RFC3339Timestamp.format))
  }
}
