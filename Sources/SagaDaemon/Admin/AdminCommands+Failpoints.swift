import AdminProtocol
import SagaCore

/// `failpoint set|clear|list` (Docs/operations-recovery.md, "Failpoints"). Arming needs
/// `failpoints.enabled`; without it `set` is refused and `list` says so.
extension AdminCommands {
  func failpointCommand(_ request: AdminRequest) throws -> AdminReply {
    let failpoints = self.failpoints ?? .disabled
    switch request.command {
    case .failpointSet: return try failpointSet(request, failpoints)
    case .failpointClear: return try failpointClear(request, failpoints)
    default: return try failpointList(request, failpoints)
    }
  }

  private func failpointSet(_ request: AdminRequest, _ failpoints: Failpoints) throws -> AdminReply {
    guard failpoints.isEnabled else {
      throw AdminProtocolError(.refused, "failpoints are disabled: set failpoints.enabled")
    }
    let name = try FailpointName(parsing: request.text("name") ?? "")
    let action = try FailpointAction(parsing: request.text("action") ?? "")
    let trigger: FailpointTrigger
    switch (request.integer("count"), request.text("probability")) {
    case (.some, .some):
      throw AdminProtocolError(.usage, "give --count or --probability, not both")
    case (let count?, nil):
      trigger = .count(Int(clamping: count))
    case (nil, let text?):
      guard let probability = Double(text) else {
        throw AdminProtocolError(.usage, "--probability must be a number in (0, 1], got '\(text)'")
      }
      trigger = .probability(probability)
    case (nil, nil):
      trigger = .always
    }
    try failpoints.set(name, action, trigger: trigger)
    let text = "failpoint \(name) armed: \(action), \(trigger)"
    if request.json { return try Self.json(failpointsDocument(failpoints), text: text) }
    return .final(.ok, text)
  }

  private func failpointClear(_ request: AdminRequest, _ failpoints: Failpoints) throws -> AdminReply {
    let text: String
    switch (request.text("name"), request.flag("all")) {
    case (.some, true):
      throw AdminProtocolError(.usage, "give a failpoint name or --all, not both")
    case (nil, false):
      throw AdminProtocolError(.usage, "give a failpoint name or --all")
    case (nil, true):
      let count = failpoints.list().count
      failpoints.clearAll()
      text = "\(count) failpoints cleared"
    case (let raw?, false):
      let name = try FailpointName(parsing: raw)
      let armed = failpoints.list().contains { $0.name == name }
      failpoints.clear(name)
      text = armed ? "failpoint \(name) cleared" : "failpoint \(name) was not armed"
    }
    if request.json { return try Self.json(failpointsDocument(failpoints), text: text) }
    return .final(.ok, text)
  }

  private func failpointList(_ request: AdminRequest, _ failpoints: Failpoints) throws -> AdminReply {
    let document = failpointsDocument(failpoints)
    if request.json { return try Self.json(document) }
    var out = ReplyBuilder()
    out.header(["FAILPOINT", "ACTION", "TRIGGER", "HITS", "FIRED", "REMAINING"])
    for point in document.failpoints {
      let trigger = point.probability.map { "probability \($0)" } ?? point.count.map { "count \($0)" } ?? "always"
      out.row([
        point.name, point.action, trigger, String(point.hits), String(point.fired),
        point.remaining.map(String.init) ?? "-",
      ])
    }
    guard failpoints.isEnabled else { return out.finish(.ok, "failpoints are disabled (failpoints.enabled: false)") }
    return out.finish(
      .ok, "\(document.failpoints.count) armed; known: \(FailpointName.known.map(\.rawValue).joined(separator: ", "))")
  }

  private func failpointsDocument(_ failpoints: Failpoints) -> AdminJSON.Failpoints {
    AdminJSON.Failpoints(
      enabled: failpoints.isEnabled,
      failpoints: failpoints.list().map { state in
        var count: Int?
        var probability: Double?
        let trigger: String
        switch state.trigger {
        case .always: trigger = "always"
        case .count(let n):
          trigger = "count"
          count = n
        case .probability(let p):
          trigger = "probability"
          probability = p
        }
        return AdminJSON.Failpoint(
          name: state.name.rawValue, action: state.action.description, trigger: trigger, count: count,
          remaining: state.remaining, probability: probability, hits: state.hits, fired: state.fired)
      })
  }
}
