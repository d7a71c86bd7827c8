// swift-tools-version:6.2
// The target graph mirrors Docs/architecture.md (DESIGN.md §5): domain code never
// sees librdkafka, NIO or GRDB, and Payments and Points never import each other.
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
  ],
  targets: [
    .systemLibrary(
      name: "CRdKafka",
      pkgConfig: "rdkafka",
      providers: [.apt(["librdkafka-dev"])]
    ),
    .target(
      name: "SagaKafka",
      dependencies: ["CRdKafka", .product(name: "Logging", package: "swift-log")]
    ),
    .target(name: "SagaCore"),
    .target(name: "SagaStorage", dependencies: ["SagaCore"]),
    .target(name: "Payments", dependencies: ["SagaCore", "SagaStorage"]),
    .target(name: "Points", dependencies: ["SagaCore", "SagaStorage"]),
    .target(
      name: "SagaRuntime",
      dependencies: ["SagaCore", "SagaStorage", "SagaKafka", "Payments", "Points"]
    ),
    .target(name: "AdminProtocol"),
    .target(
      name: "SagaDaemon",
      dependencies: [
        "SagaKafka", "SagaCore", "SagaStorage", "SagaRuntime", "Payments", "Points", "AdminProtocol",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(name: "sagad", dependencies: ["SagaDaemon"]),
    .executableTarget(
      name: "SagaBench",
      dependencies: [
        "SagaKafka",
        .product(name: "Logging", package: "swift-log"),
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .executableTarget(
      name: "sagactl",
      dependencies: [
        "AdminProtocol",
        .product(name: "ArgumentParser", package: "swift-argument-parser"),
      ]
    ),
    .testTarget(
      name: "SagaKafkaTests",
      dependencies: ["SagaKafka", .product(name: "Logging", package: "swift-log")]
    ),
    .testTarget(
      name: "SagaDaemonTests",
      dependencies: ["SagaKafka", "SagaCore", .product(name: "Logging", package: "swift-log")]
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
