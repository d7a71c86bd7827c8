import ArgumentParser

/// `sagad check-config`: validates the configuration exactly as sagad would at start,
/// prints `ok` and every key's effective value, and starts nothing.
struct CheckConfigCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "check-config",
    abstract: "Validate the configuration and print the effective values, without starting sagad.",
    discussion: """
      Exit status 0 and `ok` followed by `key = value  # source` lines when the configuration is valid; \
      otherwise the same error and exit status (64) that sagad itself would stop with.
      """
  )

  @OptionGroup var source: ConfigurationOptions

  func run() async throws {
    standardOutput(Self.report(try await source.load()))
  }

  /// `ok`, then `key = value  # source` per key, secrets redacted.
  static func report(_ loaded: DaemonConfiguration) -> String {
    var lines = ["ok"]
    let width = loaded.effective.map(\.key.count).max() ?? 0
    for entry in loaded.effective {
      let padded = entry.key.padding(toLength: width, withPad: " ", startingAt: 0)
      lines.append("\(padded) = \(entry.display)  # \(entry.source)")
    }
    return lines.joined(separator: "\n")
  }
}
