public import SagaStorage

/// The Payments database: the storage tables, then Payments' own (`PaymentsSchema`), on any
/// GRDB `DatabaseWriter`. Payments' SQL runs through it, in its store types (`PaymentView`,
/// `Wallet`, `SagaStep`, …).
public typealias PaymentsDatabase = ServiceDatabase<PaymentsSchema>
