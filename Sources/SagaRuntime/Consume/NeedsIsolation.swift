import SagaCore
import SagaStorage

/// A record failed in a batch run without savepoints (`RecordProcessor.apply(isolated: false)`):
/// the transaction rolls back and the batch runs again with a savepoint per record, where the
/// failure is handled (retried, parked or dead-lettered) without undoing the other records.
struct NeedsIsolation: Error {
  /// What the record's run threw.
  var failure: SagaError
  /// The failed record's position in the batch that was passed to `apply`; -1 when the
  /// failure cannot be pinned on one record (the batch's inbox claims, or a write one record
  /// deferred that failed with a later record's statement): the isolated run then runs all.
  var index = 0
  /// Set where the failure happens when it is not the running record's own.
  var unattributed = false

  init(failure: SagaError, index: Int = 0, unattributed: Bool = false) {
    self.failure = failure
    self.index = index
    self.unattributed = unattributed
  }

  /// A batch run without savepoints whose transaction failed to commit: the COMMIT carried
  /// the last record's held writes (`RecordProcessor.apply`), and one of them may have failed,
  /// nobody knows whose, so the batch runs again isolated. Nil for an unreachable database,
  /// which is waited out as a whole (`StorageOutage`), and for what is not a storage error.
  init?(commitOf error: any Error) {
    guard let error = StorageError.classifying(error), error.kind != .unavailable else { return nil }
    self.init(failure: .storage(error), index: -1, unattributed: true)
  }
}
