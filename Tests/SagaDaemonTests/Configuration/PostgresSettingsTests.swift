import Foundation
import SagaStorage
import SagaTestSupport
import Testing

@testable import SagaDaemon

/// `storage.engine` and `storage.postgres.*`: what is accepted, what refuses the start (naming
/// the key), and that no password is ever shown.
@Suite("storage.postgres.* configuration", .timeLimit(.minutes(1)))
struct PostgresSettingsTests {
  private func load(_ environment: [String: String]) async throws(DaemonConfiguration.Invalid) -> DaemonConfiguration {
    try await DaemonConfiguration.load(file: nil, dev: true, environment: environment)
  }

  private func refusal(_ environment: [String: String]) async -> DaemonConfiguration.Invalid? {
    do {
      _ = try await load(environment)
      return nil
    } catch {
      return error
    }
  }

  @Test("the default is SQLite; postgres with a URL, pool, timeouts, prepared statements and PGPASSWORD is read whole")
  func accepted() async throws {
    #expect(try await load([:]).node.postgres == nil)
    let configuration = try await load([
      "SAGAD_STORAGE_ENGINE": "postgres",
      "SAGAD_STORAGE_POSTGRES_URL": "postgresql://app@db.example:6543/sagas?sslmode=require",
      "SAGAD_STORAGE_POSTGRES_POOL_SIZE": "9", "SAGAD_STORAGE_POSTGRES_STATEMENT_TIMEOUT": "2s",
      "SAGAD_STORAGE_POSTGRES_PREPARED_STATEMENTS": "false", "PGPASSWORD": "s3cret",
    ])
    let postgres = try #require(configuration.node.postgres)
    #expect(!postgres.preparedStatements)
    #expect(postgres.host == "db.example" && postgres.port == 6543 && postgres.database == "sagas")
    #expect(postgres.user == "app" && postgres.sslMode == .require && postgres.password == "s3cret")
    #expect(postgres.poolSize == 9 && postgres.statementTimeout == .seconds(2))
    #expect(!configuration.effective.contains { $0.display.contains("s3cret") }, "the password is never shown")
  }

  @Test("a socket directory as the host, percent-encoded or as a host parameter, as libpq reads it")
  func socketDirectory() throws {
    let encoded = try PostgresStorageConfiguration(url: "postgres://app@%2Fvar%2Frun%2Fpostgresql:5433/sagas")
    #expect(encoded.host == "/var/run/postgresql" && encoded.port == 5433 && encoded.database == "sagas")
    #expect(encoded.socketPath == "/var/run/postgresql/.s.PGSQL.5433")
    #expect(encoded.redactedURL == "postgres://app@:5433/sagas?host=/var/run/postgresql")
    let parameter = try PostgresStorageConfiguration(url: "postgresql://app@/sagas?host=/run/pg/&sslmode=disable")
    #expect(parameter.socketPath == "/run/pg/.s.PGSQL.5432" && parameter.user == "app")
    let named = try PostgresStorageConfiguration(url: "postgres://app@db.example/sagas?host=other.example")
    #expect(named.host == "other.example" && named.socketPath == nil, "a host parameter wins, as in libpq")
    #expect(throws: PostgresURLError.self) { try PostgresStorageConfiguration(url: "postgres:///sagas") }
  }

  @Test("the password comes from its file, first line only, and is not shown")
  func passwordFile() async throws {
    let directory = try TemporaryDirectory()
    let file = directory.path + "/pg-password"
    try "from-file\nsecond line\n".write(toFile: file, atomically: true, encoding: .utf8)
    let configuration = try await load([
      "SAGAD_STORAGE_ENGINE": "postgres", "SAGAD_STORAGE_POSTGRES_URL": "postgres://sagad@127.0.0.1/sagad",
      "SAGAD_STORAGE_POSTGRES_PASSWORD_FILE": file, "PGPASSWORD": "ignored",
    ])
    #expect(configuration.node.postgres?.password == "from-file")
    #expect(!configuration.effective.contains { $0.display.contains("from-file") })
  }

  @Test(
    "refused, naming the key",
    arguments: [
      (["SAGAD_STORAGE_ENGINE": "postgres"], "storage.postgres.url"),
      (["SAGAD_STORAGE_POSTGRES_URL": "postgres://sagad@h/d"], "storage.postgres.url"),
      (
        ["SAGAD_STORAGE_ENGINE": "postgres", "SAGAD_STORAGE_POSTGRES_URL": "postgres://u:pw@h/d"],
        "storage.postgres.url"
      ),
      (["SAGAD_STORAGE_ENGINE": "postgres", "SAGAD_STORAGE_POSTGRES_URL": "mysql://h/d"], "storage.postgres.url"),
      (
        ["SAGAD_STORAGE_ENGINE": "postgres", "SAGAD_STORAGE_POSTGRES_URL": "postgres://h/d?sslmode=verify-ca"],
        "storage.postgres.url"
      ),
      (["SAGAD_STORAGE_ENGINE": "mysql"], "storage.engine"),
      (
        [
          "SAGAD_STORAGE_ENGINE": "postgres", "SAGAD_STORAGE_POSTGRES_URL": "postgres://h/d",
          "SAGAD_STORAGE_POSTGRES_PASSWORD_FILE": "/nonexistent/pw",
        ], "storage.postgres.password_file"
      ),
      (
        [
          "SAGAD_STORAGE_ENGINE": "postgres", "SAGAD_STORAGE_POSTGRES_URL": "postgres://h/d",
          "SAGAD_STORAGE_POSTGRES_POOL_SIZE": "0",
        ], "storage.postgres.pool_size"
      ),
    ])
  func refused(environment: [String: String], key: String) async {
    let error = await refusal(environment)
    #expect(error?.key == key, "\(String(describing: error))")
    #expect(error.map { !"\($0)".contains("pw@") } ?? true, "a refused URL's password is not echoed")
  }
}
