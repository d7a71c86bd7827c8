// swift-tools-version:6.2
// The target graph follows Docs/architecture.md ("Modules"), whose allowed-imports block
// scripts/check-imports.sh (make lint) checks this file and every import against: the runtime
// knows no service, Payments and Points never import each other, only SagaDaemon knows both.
import PackageDescription

let package = Package(
  name: "sagad",
  platforms: [.macOS(.v15)],
  products: [
    .executable(name: "sagad", targets: ["sagad"]),
    .executable(name: "sagactl", targets: ["sagactl"]),
    .executable(name: "sagad-bench", targets: ["SagaBench"]),
    .library(name: "SagaKafka", targets: ["SagaKafka"]),
  ],
  dependencies: [
    .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
    .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
    // 7.10.0 is the first GRDB that links against Debian's SQLite 3.40 (Docs/design.md, "SQLite and GRDB").
    .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
    .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    .package(url: "https://github.com/apple/swift-configuration.git", from: "1.4.0", traits: [.defaults, "YAML"]),
    // Already in the graph through swift-configuration's YAML trait; sagad walks the file's
    // keys itself to refuse unknown ones, which swift-configuration does not enumerate.
    .package(url: "https://github.com/jpsim/Yams", from: "6.0.0"),
    // The admin server (Docs/admin-protocol.md) and /metrics only; nothing on the saga's path uses NIO.
    .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
    // The /metrics text format (Docs/metrics.md); served over NIOHTTP1 in SagaDaemon.
    .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    // Metrics are recorded where things happen, through swift-metrics (Docs/metrics.md,
    // "How metrics are recorded"); the daemon bootstraps it with the Prometheus registry.
    .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
    // Spans (Docs/tracing.md): the API everywhere, swift-otel's OTLP/HTTP exporter only in the
    // daemon, without its gRPC exporter (a much larger build).
    .package(url: "https://github.com/apple/swift-distributed-tracing.git", from: "1.7.3"),
    .package(url: "https://github.com/swift-otel/swift-otel.git", from: "1.6.0", traits: ["OTLPHTTP"]),
    // The PostgreSQL storage engine (Docs/storage-engines.md), and its TLS (already in the graph
    // through postgres-nio).
    .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
  ],
  targets: [
    .systemLibrary(
      name: "CRdKafka",
      pkgConfig: "rdkafka",
      providers: [.apt(["librdkafka-dev"])]
    ),
    .target(
      name: "SagaKafka",
      dependencies: ["CRdKafka", "SagaCore", .product(name: "Logging", package: "swift-log")]
    ),
    .target(name: "SagaCore"),
    // What sagad calls in SQLite that Swift cannot: variadic `sqlite3_config`, `SQLITE_TRANSIENT`.
    .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),
    .target(
      name: "SagaStorage",
      dependencies: [
        "SagaCore", "CSQLite", .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOSSL", package: "swift-nio-ssl"), .product(name: "PostgresNIO", package: "postgres-nio"),
      ]
    ),
    // Generic: the consume loop, relays, retries, dead letters, supervision. It knows no service.
    .target(
      name: "SagaRuntime",
      dependencies: [
        "SagaCore", "SagaStorage", "SagaKafka",
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "CoreMetrics", package: "swift-metrics"),
        .product(name: "Tracing", package: "swift-distributed-tracing"),
      ]
    ),
    // The services plug their handlers into the runtime and define their own schemas as GRDB
    // migrations. The stuck-saga sweeper is a Payments service, hence its lifecycle and log.
    .target(
      name: "Payments",
      dependencies: [
        "SagaCore", "SagaStorage", "SagaRuntime",
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "CoreMetrics", package: "swift-metrics"),
      ]
    ),
    .target(
      name: "Points",
      dependencies: [
        "SagaCore", "SagaStorage", "SagaRuntime", .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "CoreMetrics", package: "swift-metrics"),
      ]
    ),
    // The standard library only, so that sagactl stays small: NIO framing lives in SagaDaemon.
    .target(name: "AdminProtocol"),
    .target(
      name: "SagaDaemon",
      dependencies: [
        "SagaKafka", "SagaCore", "SagaStorage", "SagaRuntime", "Payments", "Points", "AdminProtocol",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
        .product(name: "Configuration", package: "swift-configuration"),
        .product(name: "Yams", package: "Yams"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "UnixSignals", package: "swift-service-lifecycle"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "NIOHTTP1", package: "swift-nio"),
        .product(name: "Prometheus", package: "swift-prometheus"),
        .product(name: "CoreMetrics", package: "swift-metrics"),
        .product(name: "Tracing", package: "swift-distributed-tracing"),
        .product(name: "OTel", package: "swift-otel"),
      ]
    ),
    // jemalloc replaces glibc's malloc in the daemon only: Swift allocates and frees an object
    // per message, row and reply, and glibc's arenas cost ~5-15 % of sagad's CPU per saga
    // (Docs/benchmarks.md, "The allocator"). Tests and sagactl keep glibc's.
    .executableTarget(
      name: "sagad", dependencies: ["SagaDaemon"],
      linkerSettings: [.linkedLibrary("jemalloc", .when(platforms: [.linux]))]
    ),
    .executableTarget(
      name: "SagaBench",
      dependencies: [
        "SagaKafka", "SagaCore", "SagaStorage", "SagaRuntime", "Payments", "Points", "SagaDaemon",
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "PostgresNIO", package: "postgres-nio"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(
      name: "sagactl",
      dependencies: [
        // SagaCore for its timestamp parser (Foundation and the standard library only).
        "AdminProtocol", "SagaCore",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    // Helpers shared by the test targets (polling with a deadline, a manual clock, temp dirs,
    // loggers, the checks every service database passes).
    .target(
      name: "SagaTestSupport",
      dependencies: [
        "SagaStorage", "SagaKafka", .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "Logging", package: "swift-log"),
      ],
      path: "Tests/SagaTestSupport"
    ),
    .testTarget(name: "SagaCoreTests", dependencies: ["SagaCore"]),
    .testTarget(name: "AdminProtocolTests", dependencies: ["AdminProtocol"]),
    .testTarget(
      name: "SagaKafkaTests",
      dependencies: ["SagaTestSupport", "SagaKafka", "SagaCore", .product(name: "Logging", package: "swift-log")]
    ),
    .testTarget(
      name: "SagaRuntimeTests",
      dependencies: [
        "SagaTestSupport",
        "SagaRuntime", "SagaCore", "SagaStorage", "SagaKafka",
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
        .product(name: "CoreMetrics", package: "swift-metrics"),
        .product(name: "MetricsTestKit", package: "swift-metrics"),
      ]
    ),
    .testTarget(
      name: "SagaStorageTests",
      dependencies: [
        "SagaStorage", "SagaTestSupport", .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "Logging", package: "swift-log"), .product(name: "NIOPosix", package: "swift-nio"),
        .product(name: "PostgresNIO", package: "postgres-nio"),
      ]
    ),
    .testTarget(
      name: "PointsTests",
      dependencies: [
        "SagaTestSupport",
        "Points", "SagaCore", "SagaStorage", "SagaRuntime", .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "CoreMetrics", package: "swift-metrics"),
        .product(name: "MetricsTestKit", package: "swift-metrics"),
      ]
    ),
    .testTarget(
      name: "PaymentsTests",
      dependencies: [
        "SagaTestSupport",
        "Payments", "SagaCore", "SagaStorage", "SagaRuntime",
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "CoreMetrics", package: "swift-metrics"),
        .product(name: "MetricsTestKit", package: "swift-metrics"),
      ]
    ),
    .testTarget(
      name: "SagaDaemonTests",
      dependencies: [
        "SagaTestSupport",
        "SagaKafka", "SagaCore", "SagaStorage", "SagaRuntime", "Payments", "Points", "SagaDaemon", "AdminProtocol",
        .product(name: "GRDB", package: "GRDB.swift"),
        .product(name: "Logging", package: "swift-log"),
        .product(name: "NIOCore", package: "swift-nio"),
        .product(name: "NIOEmbedded", package: "swift-nio"),
      ]
    ),
  ]
)

// One place for the settings every target of ours shares: Swift 6 mode (the package
// default), no warnings tolerated, and the upcoming features we already rely on.
for target in package.targets where target.type != .system {
  var settings = target.swiftSettings ?? []
  settings.append(.treatAllWarnings(as: .error))
  settings.append(.enableUpcomingFeature("ExistentialAny"))
  settings.append(.enableUpcomingFeature("InternalImportsByDefault"))
  target.swiftSettings = settings
}
