public import Foundation

/// One supervised task as the supervisor sees it at one moment.
public struct SupervisedTaskSnapshot: Sendable, Hashable {
  public let name: String
  public let kind: SupervisedChild.Kind
  public let state: SupervisedTaskState
  /// Starts after the first one: automatic restarts and operator restarts.
  public let restarts: Int
  public let lastError: String?
  public let lastErrorAt: Date?
  /// When a task in `backoff` starts again.
  public let nextStartAt: Date?
  /// Every automatic restart delay so far, oldest first: the back-off as it grew.
  public let backoffs: [Duration]

  public init(
    name: String, kind: SupervisedChild.Kind, state: SupervisedTaskState, restarts: Int, lastError: String?,
    lastErrorAt: Date?, nextStartAt: Date?, backoffs: [Duration]
  ) {
    self.name = name
    self.kind = kind
    self.state = state
    self.restarts = restarts
    self.lastError = lastError
    self.lastErrorAt = lastErrorAt
    self.nextStartAt = nextStartAt
    self.backoffs = backoffs
  }
}
