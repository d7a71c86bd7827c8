/// The first word shared by two-word commands (`dlt list`, `dlt show`, …): sagactl shows
/// it as a subcommand of its own with the family's members under it.
public enum AdminCommandFamily: String, Sendable, Hashable, CaseIterable {
  case user
  case dlt
  case outbox
  case compensations
  case failpoint

  public var summary: String {
    switch self {
    case .user: "manage users"
    case .dlt: "dead letters from the .DLT topics: list, show, replay, discard"
    case .outbox: "the services' outbox of events to publish: list, show, discard a stuck row"
    case .compensations: "parked compensations: list, retry, resolve"
    case .failpoint: "fault injection for drills: set, clear, list (needs failpoints.enabled)"
    }
  }

  /// Its commands in catalogue order.
  public var commands: [AdminCommand] { AdminCommand.allCases.filter { $0.family == self } }
}
