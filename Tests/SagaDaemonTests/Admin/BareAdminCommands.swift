import Payments
import Points
import SagaStorage
import SagaTestSupport

@testable import SagaDaemon

extension AdminCommands {
  /// The admin commands over fresh Payments and Points databases in `directory`, with no
  /// Kafka and no `pay` path: for the commands that need neither.
  static func onBareDatabases(in directory: TemporaryDirectory) throws -> AdminCommands {
    let payments = PaymentsService(
      database: try PaymentsDatabase(opening: StorageConfiguration(path: directory.path + "/payments.sqlite")))
    let points = PointsService(
      database: try PointsDatabase(opening: StorageConfiguration(path: directory.path + "/points.sqlite")))
    return AdminCommands(
      version: "9.9.9", roles: ["payments", "points"], payments: payments, points: points, pay: nil)
  }
}
