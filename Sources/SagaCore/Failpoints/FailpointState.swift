/// One armed failpoint as `Failpoints.list()` reports it.
public struct FailpointState: Sendable, Hashable {
  public let name: FailpointName
  public let action: FailpointAction
  /// The trigger as set (for `count`, the N it was armed with).
  public let trigger: FailpointTrigger
  /// How many times code reached the point since it was armed.
  public let hits: Int
  /// How many of those hits fired the action.
  public let fired: Int
  /// For a `count` trigger, the firings left before it disarms; nil otherwise.
  public let remaining: Int?

  public init(
    name: FailpointName, action: FailpointAction, trigger: FailpointTrigger, hits: Int, fired: Int, remaining: Int?
  ) {
    self.name = name
    self.action = action
    self.trigger = trigger
    self.hits = hits
    self.fired = fired
    self.remaining = remaining
  }
}
