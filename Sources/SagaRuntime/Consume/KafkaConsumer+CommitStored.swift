import Logging
import SagaCore
import SagaKafka

extension KafkaConsumer {
  /// Commits the stored offsets, retrying a retriable failure (the coordinator moving, a
  /// request timing out, a dropped connection) a few times in place. When it still fails
  /// the offsets stay stored and the next commit carries them; until then a restart
  /// replays the batch, which the inbox makes a no-op. Throwing instead would restart the
  /// worker for a broker hiccup: a restart leaves the group (a rebalance for every member),
  /// and a few within the supervisor's window leave the worker failed until an operator
  /// restarts it. The same holds when the membership was lost (a session expired during a
  /// broker outage): librdkafka rejoins by itself. Returns the failure given up on, nil
  /// once committed; the delays between attempts pass on `clock`.
  func commitStored(
    logger: Logger, attempts: Int = 4, initialDelay: Duration = .milliseconds(100), clock: SagaClock = .continuous
  ) async throws -> KafkaError? {
    var delay = initialDelay
    var attempt = 1
    while true {
      let failure: KafkaError
      do {
        try await commit()
        return nil
      } catch {
        failure = error
      }
      if failure.isGroupMembershipLost {
        // Retrying cannot help and restarting the worker is not needed: librdkafka rejoins.
        logger.warning(
          "offset commit refused: the group membership was lost; the next owner replays from the committed offsets",
          metadata: ["error": "\(failure)"])
        return failure
      }
      guard failure.isRetriable && !failure.isFatal else { throw failure }
      guard attempt < attempts else {
        logger.warning(
          "offset commit failed; the offsets stay stored for the next commit",
          metadata: ["error": "\(failure)", "attempts": "\(attempt)"])
        return failure
      }
      logger.info("offset commit failed, retrying", metadata: ["error": "\(failure)", "attempt": "\(attempt)"])
      try await clock.sleep(for: delay)
      delay *= 2
      attempt += 1
    }
  }
}
