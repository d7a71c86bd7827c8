public import ServiceLifecycle

/// A long-running task for the `Supervisor`: a name operators use, a kind for display, and
/// the service. The supervisor restarts a child by calling `run()` again, so a child's
/// `run` must be callable again after it returned or threw (a `ConsumeWorker` built with
/// `makeConsumer` takes a fresh consumer; an `OutboxRelay` keeps no state between runs).
public struct SupervisedChild: Sendable {
  /// What kind of task a child is: `workers` and `status` group and label by it.
  public struct Kind: RawRepresentable, Sendable, Hashable, ExpressibleByStringLiteral, CustomStringConvertible {
    public let rawValue: String
    public init(rawValue: String) { self.rawValue = rawValue }
    public init(stringLiteral value: String) { self.rawValue = value }
    public var description: String { rawValue }

    public static let consumeWorker: Kind = "worker"
    public static let relay: Kind = "relay"
    public static let deadLetterWorker: Kind = "dlt-worker"
    public static let sweeper: Kind = "sweeper"
  }

  public let name: String
  public let kind: Kind
  public let service: any Service

  public init(name: String, kind: Kind, service: any Service) {
    self.name = name
    self.kind = kind
    self.service = service
  }

  public static func worker(_ worker: ConsumeWorker) -> SupervisedChild {
    SupervisedChild(name: worker.name, kind: .consumeWorker, service: worker)
  }

  public static func relay(_ relay: OutboxRelay) -> SupervisedChild {
    SupervisedChild(name: "relay-\(relay.name)", kind: .relay, service: relay)
  }
}
