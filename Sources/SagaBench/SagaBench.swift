import ArgumentParser

/// `sagad-bench`: the measuring half of `make bench-*`. Scripts start the brokers and
/// the independent tools; this binary drives sagad's own code paths.
@main
struct SagaBench: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "sagad-bench", abstract: "Benchmarks for sagad's components.",
    subcommands: [KafkaBenchCommand.self, SQLiteBenchCommand.self, SagaBenchCommand.self, PostgresBenchCommand.self])
}
