import SagaCore

/// A record failed in a batch run without savepoints (`RecordProcessor.apply(isolated: false)`):
/// the transaction rolls back and the batch runs again with a savepoint per record, where the
/// failure is handled (retried, parked or dead-lettered) without undoing the other records.
struct NeedsIsolation: Error {
  /// What the record's run threw.
  var failure: SagaError
  /// The failed record's position in the batch that was passed to `apply`.
  var index = 0
}
