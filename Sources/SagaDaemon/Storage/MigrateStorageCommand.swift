import ArgumentParser
import Foundation
import SagaCore
import SagaStorage

/// `sagad migrate-storage`: copies a stopped instance's SQLite state into PostgreSQL and
/// proves the copy (Docs/operations.md, "Moving from SQLite to PostgreSQL").
struct MigrateStorageCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "migrate-storage",
    abstract: "Copy a stopped sagad's SQLite state into PostgreSQL, audited on both sides.",
    discussion: """
      Refuses while a sagad still uses the state directory, when its state fails the money audit \
      (sagactl verify's checks), and when the target schemas (payments, points, dead_letters) already hold \
      rows. Copies payments.sqlite, points.sqlite and dlt.sqlite, every table with its ids, in one \
      transaction per schema; then compares every table's rows and audits PostgreSQL. Exit status 0 only \
      when everything matches. The SQLite files are left as they were.
      """
  )

  @Option(
    help: "The stopped sagad's state directory (its state_dir), holding payments.sqlite, points.sqlite, dlt.sqlite.")
  var from: String

  @Option(help: "The PostgreSQL database: postgres://user@host:port/database?sslmode=…, without a password.")
  var to: String

  @Option(help: "File whose first line is the PostgreSQL password (default: PGPASSWORD, else none).")
  var passwordFile: String?

  @Flag(help: "Audit the source, count its rows and check that the target is empty; write nothing.")
  var dryRun = false

  @Option(help: "The instance's reward.rate_bp, for the audit across Payments and Points.")
  var rewardRateBp: Int64 = 1_000

  @Option(help: "The instance's reward.unit, for the audit across Payments and Points.")
  var rewardUnit: Int64 = 100

  @OptionGroup var logging: LoggingOptions

  func run() async throws {
    let postgres = try target(environment: ProcessInfo.processInfo.environment)
    let rule: RewardRule
    do {
      rule = try RewardRule(rateBasisPoints: rewardRateBp, unit: rewardUnit)
    } catch {
      throw ValidationError("--reward-rate-bp/--reward-unit: \(error)")
    }
    let migration = StorageMigration(
      stateDirectory: from, postgres: postgres, rule: rule, dryRun: dryRun,
      logger: logging.bootstrap(label: "sagad.migrate-storage", configured: .warning), output: standardOutput)
    try await migration.run()
  }

  /// `--to` with the password from `--password-file` or PGPASSWORD; a URL holding one is
  /// refused, as `storage.postgres.url` is, so that it never shows in `ps` or a shell history.
  func target(environment: [String: String]) throws -> PostgresStorageConfiguration {
    var configuration: PostgresStorageConfiguration
    do {
      configuration = try PostgresStorageConfiguration(url: to)
    } catch {
      throw ValidationError("--to: \(error.reason)")
    }
    guard configuration.password == nil else {
      throw ValidationError("--to holds a password; give it in --password-file (or PGPASSWORD) so it is never shown")
    }
    if let passwordFile {
      do {
        configuration.password = try SecretFile.read(passwordFile, key: "--password-file")
      } catch {
        throw ValidationError("--password-file: \(error.reason)")
      }
    } else {
      configuration.password = environment["PGPASSWORD"].flatMap { $0.isEmpty ? nil : $0 }
    }
    if configuration.applicationName == PostgresStorageConfiguration().applicationName {
      configuration.applicationName = "sagad migrate-storage"
    }
    // One transaction at a time per schema.
    configuration.poolSize = 1
    return configuration
  }
}
