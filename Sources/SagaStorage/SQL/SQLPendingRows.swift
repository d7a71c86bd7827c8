/// The rows of a statement sent ahead of the next one (``SQLConnection/queryAhead(_:_:)``):
/// read once the transaction needs them, by which time a later statement's wait has usually
/// brought them.
public struct SQLPendingRows {
  private let read: () throws -> [SQLRow]

  /// - Parameter read: the rows, waiting for the server's answer if it has not come yet.
  public init(_ read: @escaping () throws -> [SQLRow]) {
    self.read = read
  }

  /// The statement's rows, or its failure.
  public func rows() throws -> [SQLRow] { try read() }
}
