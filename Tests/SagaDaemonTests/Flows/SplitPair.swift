import SagaTestSupport

/// A Payments sagad and a Points sagad (`sagad --config`, one role each) on one dev broker:
/// the split-roles setup several suites share. `stop()` kills both; call it in a `defer`.
struct SplitPair {
  let payments: LagProcessTests.SplitNode
  let points: LagProcessTests.SplitNode
  let paymentsDaemon: ChildProcess
  let pointsDaemon: ChildProcess

  /// Starts both on `broker`, each once its admin socket answers; `environment` adds to the
  /// test's own for both.
  static func start(broker: String, environment: [String: String?] = [:]) async throws -> SplitPair {
    let payments = try LagProcessTests.SplitNode(role: "payments", broker: broker)
    let points = try LagProcessTests.SplitNode(role: "points", broker: broker)
    let paymentsDaemon = try await payments.start(environment: environment)
    do {
      let pointsDaemon = try await points.start(environment: environment)
      return SplitPair(payments: payments, points: points, paymentsDaemon: paymentsDaemon, pointsDaemon: pointsDaemon)
    } catch {
      paymentsDaemon.killIfRunning()
      throw error
    }
  }

  func stop() {
    paymentsDaemon.killIfRunning()
    pointsDaemon.killIfRunning()
  }

  /// The ends of both daemons' stderr, for a failed test's record.
  var stderr: String {
    "payments sagad stderr:\n\(paymentsDaemon.stderr.text.suffix(3000))\n"
      + "points sagad stderr:\n\(pointsDaemon.stderr.text.suffix(3000))"
  }
}
