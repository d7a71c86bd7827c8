public import SagaStorage

/// The Points database: the storage tables, then Points' own (`PointsSchema`), on any GRDB
/// `DatabaseWriter`. Points' SQL runs through it, in its store types (`PointsStore`,
/// `PointsSagaStep`).
public typealias PointsDatabase = ServiceDatabase<PointsSchema>
