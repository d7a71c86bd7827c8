import SagaCore

extension DaemonConfigKey {
  /// Every key sagad reads, in the order of Docs/configuration.md.
  static let all: [DaemonConfigKey] = [
    DaemonConfigKey(
      "roles", .list, "payments, points", "the services this process runs (payments, points)"),
    DaemonConfigKey(
      "state_dir", .text, "/var/lib/sagad (--dev: ./.sagad)", "directory of the service databases"),
    DaemonConfigKey(
      "state_dir_group", .text, "",
      "group (name or gid) given read access to state_dir and its databases (0750/0640); unset: sagad's user only (0700/0600)"
    ),
    DaemonConfigKey(
      "kafka.brokers", .text, "(required; --dev: embedded)",
      "host:port,… of the bootstrap brokers, or `embedded` for the in-process development cluster"),
    DaemonConfigKey(
      "kafka.client_id", .text, "sagad", "prefix of the Kafka client ids (<prefix>-<worker or relay>)"),
    DaemonConfigKey(
      "kafka.statistics_interval", .duration(min: .zero, max: .seconds(3600)), "5s",
      "pace of the lag samples, and librdkafka's statistics interval (their fallback); 0 turns that off"),
    DaemonConfigKey(
      "kafka.security.protocol", .choice(KafkaSecuritySettings.protocols), "plaintext",
      "how every Kafka client connects: plaintext, ssl, sasl_plaintext, sasl_ssl"),
    DaemonConfigKey(
      "kafka.security.sasl_mechanism", .text, "",
      "SASL mechanism: PLAIN, SCRAM-SHA-256 or SCRAM-SHA-512"),
    DaemonConfigKey("kafka.security.sasl_username", .text, "", "SASL user name"),
    DaemonConfigKey(
      "kafka.security.sasl_password_file", .text, "",
      "file whose first line is the SASL password (mode 0600); never shown"),
    DaemonConfigKey("kafka.security.ssl_ca_location", .text, "", "CA certificate(s) to verify the brokers (PEM file)"),
    DaemonConfigKey(
      "kafka.security.ssl_certificate_location", .text, "", "client certificate for mutual TLS (PEM file)"),
    DaemonConfigKey("kafka.security.ssl_key_location", .text, "", "client private key for mutual TLS (PEM file)"),
    DaemonConfigKey(
      "kafka.security.ssl_key_password_file", .text, "", "file whose first line is the client key's password"),
    DaemonConfigKey("kafka.producer", .properties, "linger.ms=1", "extra librdkafka properties for every producer"),
    DaemonConfigKey(
      "kafka.consumer", .properties, "fetch.wait.max.ms=10",
      "extra librdkafka properties for every consumer (fetch.wait.max.ms: 3 against the development broker, "
        + "100 for DLT workers)"),
    DaemonConfigKey(
      "consumer.batch_max", .integer(1...100_000), "500", "most records applied in one database transaction"),
    DaemonConfigKey(
      "consumer.poll_timeout", .duration(min: .milliseconds(1), max: .seconds(60)), "100ms",
      "how long one poll waits for a first record"),
    DaemonConfigKey(
      "retry.attempts", .integer(1...1000), "3", reloadable: true,
      "runs of a handler for a transiently failing record before it is dead-lettered"),
    DaemonConfigKey(
      "retry.initial_delay", .duration(min: .zero, max: .seconds(86_400)), "1s", reloadable: true,
      "back-off before the second attempt"),
    DaemonConfigKey(
      "retry.multiplier", .decimal(1...100), "2.0", reloadable: true, "back-off growth per attempt"),
    DaemonConfigKey(
      "retry.max_delay", .duration(min: .zero, max: .seconds(86_400)), "30s", reloadable: true,
      "longest back-off"),
    DaemonConfigKey(
      "retry.jitter", .decimal(0...0.99), "0.2", reloadable: true, "random share added to or taken from a back-off"),
    DaemonConfigKey(
      "retry.in_place_attempts", .integer(1...1000), "2", reloadable: true,
      "runs made in place (the first included) before a record is parked in the retry schedule"),
    DaemonConfigKey(
      "payments.group_commit", .bool, "true",
      "whether concurrent pay requests share one write transaction (one fsync); false: one each"),
    DaemonConfigKey(
      "payments.group_commit_window", .duration(min: .zero, max: .seconds(1)), "3ms (SQLite), 8ms (PostgreSQL)",
      "under load, the least time between the starts of two pay groups, so that each gathers more; 0: none"),
    DaemonConfigKey(
      "reward.rate_bp", .integer(0...10_000), "1000", "reward rate in basis points (1000 = 10 %)"),
    DaemonConfigKey("reward.unit", .integer(1...Int.max), "100", "rewards are rounded down to a multiple of this"),
    DaemonConfigKey(
      "sweeper.stuck_after", .duration(min: .seconds(1), max: .seconds(30 * 86_400)), "60s", reloadable: true,
      "a saga with no progress for this long is stuck"),
    DaemonConfigKey(
      "sweeper.interval", .duration(min: .milliseconds(100), max: .seconds(86_400)), "15s", reloadable: true,
      "how often the sweeper looks for stuck sagas"),
    DaemonConfigKey(
      "sweeper.max_republish", .integer(0...1000), "5", reloadable: true,
      "times a stuck saga's event is republished before it is reported"),
    DaemonConfigKey("outbox.batch_max", .integer(1...100_000), "1000", "outbox rows published per relay round"),
    DaemonConfigKey(
      "outbox.idle_interval", .duration(min: .milliseconds(10), max: .seconds(3600)), "1s",
      "how long an idle relay sleeps when nothing wakes it"),
    DaemonConfigKey(
      "outbox.wake_on_commit", .bool, "true",
      "whether a commit that writes outbox rows wakes the relay; false: it polls every outbox.idle_interval"),
    DaemonConfigKey(
      "outbox.handoff", .bool, "true",
      "whether a commit hands its outbox rows to the relay, which then need not read them; false: it reads"),
    DaemonConfigKey(
      "outbox.retention", .duration(min: .seconds(1), max: .seconds(365 * 86_400)), "24h",
      "sent outbox rows are deleted after this"),
    DaemonConfigKey(
      "outbox.purge_interval", .duration(min: .seconds(1), max: .seconds(86_400)), "60s",
      "how often sent rows and old inbox entries are purged"),
    DaemonConfigKey(
      "inbox.retention", .duration(min: .seconds(60), max: .seconds(365 * 86_400)), "7d",
      "inbox entries (consumed event ids) and dead-letter marks are deleted after this"),
    DaemonConfigKey(
      "timeline.retention", .duration(min: .seconds(3600), max: .seconds(3650 * 86_400)), "30d",
      "saga timeline steps (what `sagactl saga` shows) are deleted after this"),
    DaemonConfigKey(
      "admin.socket", .text, "/run/sagad/sagad.sock (--dev: <state_dir>/sagad.sock)",
      "the admin socket, mode 0660, at most 107 bytes"),
    DaemonConfigKey(
      "admin.idle_timeout", .duration(min: .seconds(1), max: .seconds(86_400)), "300s",
      "an admin connection silent for this long is closed"),
    DaemonConfigKey(
      "admin.max_connections", .integer(1...10_000), "32", "admin connections open at once; more get 8005"),
    DaemonConfigKey(
      "admin.max_connections_per_user", .integer(1...10_000), "4",
      "admin connections one user (other than root and sagad's own) may hold; more get 8005"),
    DaemonConfigKey(
      "admin.reserved_connections", .integer(0...10_000), "4",
      "slots of admin.max_connections kept for root and sagad's own user"),
    DaemonConfigKey(
      "admin.request_timeout", .duration(min: .milliseconds(100), max: .seconds(3600)), "10s",
      "a request line must be complete this long after its first byte; trickled bytes do not extend it"),
    DaemonConfigKey(
      "admin.max_session", .duration(min: .seconds(1), max: .seconds(7 * 86_400)), "1h",
      "an admin connection is closed this long after it opened, whatever it sends"),
    DaemonConfigKey(
      "admin.operator_groups", .list, "", "groups (names or gids) whose members get the operate level"),
    DaemonConfigKey("admin.read_groups", .list, "", "groups whose members get the read level"),
    DaemonConfigKey(
      "metrics.listen", .address, "127.0.0.1:9464 (--dev: 127.0.0.1:0)",
      "where GET /metrics, /healthz and /readyz are served; port 0 picks a free port (see <state_dir>/metrics-address); `off` or \"\" turns it off"
    ),
    DaemonConfigKey(
      "metrics.max_connections", .integer(1...10_000), "16",
      "connections to metrics.listen served at once; more are closed at accept (fewer when the descriptor limit is low)"
    ),
    DaemonConfigKey(
      "metrics.request_timeout", .duration(min: .milliseconds(100), max: .seconds(3600)), "10s",
      "a metrics connection must send a complete request head within this; trickled bytes do not extend it"),
    DaemonConfigKey(
      "metrics.idle_timeout", .duration(min: .seconds(1), max: .seconds(86_400)), "90s",
      "an idle keep-alive metrics connection is closed after this"),
    DaemonConfigKey(
      "tracing.otlp.endpoint", .text, "",
      "base URL of an OTLP/HTTP receiver (http://collector:4318); spans go to <endpoint>/v1/traces. Empty: tracing off (unless OTEL_EXPORTER_OTLP_ENDPOINT is set)"
    ),
    DaemonConfigKey(
      "tracing.sample_ratio", .decimal(0...1), "1.0",
      "share of new traces recorded (parent-based: a trace continued from a caller keeps its decision)"),
    DaemonConfigKey("tracing.service_name", .text, "sagad", "service.name of sagad's spans"),
    DaemonConfigKey(
      "tracing.max_queue", .integer(16...1_000_000), "2048",
      "finished spans held for export at most; more are dropped and counted while the collector is slow or away"),
    DaemonConfigKey(
      "storage.synchronous", .choice(["full", "normal"]), "full", "SQLite synchronous mode of the databases"),
    DaemonConfigKey(
      "storage.engine", .choice(["sqlite", "postgres"]), "sqlite",
      "where the services keep their state: SQLite files in state_dir, or one PostgreSQL database that several instances per role share"
    ),
    DaemonConfigKey(
      "storage.postgres.url", .text, "",
      "with storage.engine postgres: postgres://user@host:port/database?sslmode=disable|prefer|require (no password in it)"
    ),
    DaemonConfigKey(
      "storage.postgres.password_file", .text, "",
      "file whose first line is the PostgreSQL password (mode 0600); else PGPASSWORD, else none"),
    DaemonConfigKey(
      "storage.postgres.pool_size", .integer(1...64), "4",
      "connections per schema (payments, points, dead_letters) and instance; each runs one transaction at a time"),
    DaemonConfigKey(
      "storage.postgres.statement_timeout", .duration(min: .milliseconds(100), max: .seconds(3600)), "30s",
      "the server cancels a statement running longer; the transaction is retried as storage unavailable"),
    DaemonConfigKey(
      "storage.postgres.connect_timeout", .duration(min: .milliseconds(100), max: .seconds(600)), "5s",
      "how long opening one connection may take"),
    DaemonConfigKey(
      "storage.postgres.prepared_statements", .bool, "true",
      "each connection prepares the statements it sends again (saves the server parsing and planning); false behind PgBouncer in transaction mode"
    ),
    DaemonConfigKey(
      "supervisor.max_restarts", .integer(0...10_000), "5",
      "restarts of a task within supervisor.window before it is marked failed"),
    DaemonConfigKey(
      "supervisor.window", .duration(min: .seconds(1), max: .seconds(86_400)), "60s",
      "the window supervisor.max_restarts counts in"),
    DaemonConfigKey(
      "shutdown.timeout", .duration(min: .seconds(1), max: .seconds(3600)), "30s",
      "SIGTERM: time to drain before sagad gives up and exits non-zero"),
    DaemonConfigKey(
      "failpoints.enabled", .bool, "false (--dev: true)", "whether `failpoint set` may arm fault injection"),
    DaemonConfigKey(
      "peers.points", .choice(PeerKind.allCases.map(\.rawValue)), "sagad",
      "what runs Points beside this Payments: sagad, or spring (no idempotency: stuck sagas are reported, never re-announced)"
    ),
    DaemonConfigKey(
      "peers.payments", .choice(PeerKind.allCases.map(\.rawValue)), "sagad",
      "what runs Payments beside this Points: sagad, or spring (no idempotency: a duplicate never sends CompensatePayment again)"
    ),
    DaemonConfigKey(
      "spring.type_headers", .bool, "true", "whether every saga event carries Spring's __TypeId__ header"),
    DaemonConfigKey(
      "spring.type_package", .text, SpringTypeIds.defaultPackage,
      "Java package prefixed to the spring.type_id.* names without a dot; set it to the Spring services' package"),
    DaemonConfigKey(
      "spring.type_id.reservation_completed", .text, "ReservationCompletedKafkaEvent",
      "__TypeId__ of ReservationCompleted: a class in spring.type_package, or a fully qualified name"),
    DaemonConfigKey(
      "spring.type_id.point_reward_completed", .text, "PointRewardCompletedEvent",
      "__TypeId__ of PointRewardCompleted: a class in spring.type_package, or a fully qualified name"),
    DaemonConfigKey(
      "spring.type_id.point_reward_failed", .text, "PointRewardFailedEvent",
      "__TypeId__ of PointRewardFailed: a class in spring.type_package, or a fully qualified name"),
    DaemonConfigKey(
      "spring.type_id.compensate_payment", .text, "CompensatePaymentEvent",
      "__TypeId__ of CompensatePayment: a class in spring.type_package, or a fully qualified name"),
    DaemonConfigKey(
      "spring.type_id.compensation_failed", .text, "CompensationFailedEvent",
      "__TypeId__ of CompensationFailed: a class in spring.type_package, or a fully qualified name"),
    DaemonConfigKey(
      "dlt.replay_rate", .integer(1...1_000_000), "100",
      "dead letters republished per second by `dlt replay`"),
    DaemonConfigKey(
      "lag.window", .integer(2...1000), "10", "statistics samples the `lag` status is judged over"),
    DaemonConfigKey(
      "log.level", .choice(LoggingOptions.Level.allCases.map(\.rawValue)), "info", reloadable: true,
      "minimum level of log lines; --log-level wins over it"),
  ]

  /// `spring.type_id.<event in snake case>`, e.g. `spring.type_id.reservation_completed`.
  static func springTypeIdKey(_ type: EventType) -> String {
    var name = ""
    for character in type.rawValue {
      if character.isUppercase, !name.isEmpty { name.append("_") }
      name.append(contentsOf: character.lowercased())
    }
    return "spring.type_id." + name
  }

  /// `SAGAD_*` variables that are not configuration keys and so are not refused.
  static let nonKeyEnvironment: Set<String> = [
    "SAGAD_SOCKET",  // sagactl's socket
    "SAGAD_BINARY",  // the tests' sagad
    "SAGAD_DEPS_START_SERVICES",  // scripts/install-deps.sh
    "SAGAD_PEERS_VENV",  // scripts/install-deps.sh: the tracing tests' OTLP receiver
    "SAGAD_TEST_POSTGRES_URL",  // tests: a PostgreSQL server of the caller's instead of a throwaway one
  ]
}
