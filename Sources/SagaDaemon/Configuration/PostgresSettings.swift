import Foundation
import SagaStorage

/// `storage.engine` and `storage.postgres.*` (Docs/configuration.md): nil for SQLite, else
/// where the one database of every instance is. The password never sits in the URL, the YAML
/// or the environment of `check-config`'s output: it comes from a file or libpq's PGPASSWORD.
enum PostgresSettings {
  static func read(_ values: inout ConfigValues) throws(DaemonConfiguration.Invalid) -> PostgresStorageConfiguration? {
    let engine = try values.choice("storage.engine") ?? "sqlite"
    let url = try values.text("storage.postgres.url") ?? ""
    guard engine == "postgres" else {
      if !url.isEmpty {
        throw .init(
          key: "storage.postgres.url", reason: "is set but storage.engine is \(engine); set storage.engine: postgres")
      }
      return nil
    }
    guard !url.isEmpty else {
      throw .init(key: "storage.postgres.url", reason: "is required with storage.engine postgres")
    }
    var configuration: PostgresStorageConfiguration
    do {
      configuration = try PostgresStorageConfiguration(url: url)
    } catch {
      throw .init(key: "storage.postgres.url", reason: error.reason)
    }
    guard configuration.password == nil else {
      throw .init(
        key: "storage.postgres.url",
        reason: "holds a password; put it in storage.postgres.password_file (or PGPASSWORD) so it is never shown")
    }
    if let file = try values.text("storage.postgres.password_file"), !file.isEmpty {
      configuration.password = try SecretFile.read(file, key: "storage.postgres.password_file")
    } else {
      configuration.password = values.sources.postgresPassword
    }
    configuration.poolSize = try values.integer("storage.postgres.pool_size") ?? configuration.poolSize
    configuration.statementTimeout =
      try values.duration("storage.postgres.statement_timeout") ?? configuration.statementTimeout
    configuration.connectTimeout =
      try values.duration("storage.postgres.connect_timeout") ?? configuration.connectTimeout
    configuration.preparedStatements =
      try values.bool("storage.postgres.prepared_statements") ?? configuration.preparedStatements
    return configuration
  }
}
