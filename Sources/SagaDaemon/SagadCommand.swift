public import ArgumentParser
import SagaCore

/// `sagad`, the saga daemon. Until the daemon itself lands, running it without a
/// subcommand prints this help; `sagad dev-broker` already works.
public struct SagadCommand: AsyncParsableCommand {
  public static let configuration = CommandConfiguration(
    commandName: "sagad",
    abstract: "Choreographed payment/points saga over Apache Kafka.",
    discussion: """
      Runs the Payments and Points services of the saga as one daemon. \
      For local work, `sagad dev-broker` starts an in-memory Kafka cluster with every saga topic.
      """,
    version: SagaCore.version,
    subcommands: [DevBrokerCommand.self]
  )

  @OptionGroup public var logging: LoggingOptions

  public init() {}

  public func run() async throws {
    print(Self.helpMessage())
    standardError("sagad: the saga daemon is not implemented yet; `sagad dev-broker` runs a development cluster.")
  }
}
