// swift-tools-version:6.1
import PackageDescription

/// One set of compiler settings for every Swift target of Herald.
/// `NonisolatedNonsendingByDefault` (SE-0461): Herald's nonisolated async functions run on their
/// caller's executor instead of hopping to the global one at each call. In ingest every such hop
/// was a trip through the event loop's queue; ~20 fewer per send cut its CPU per send under wrk by
/// 15–20% (BENCHMARKS.md run 12). A function that must leave its caller's actor says `@concurrent`.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("NonisolatedNonsendingByDefault"),
]

let package = Package(
    name: "herald",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "herald-ingest", targets: ["Ingest"]),
        .executable(name: "herald-dispatcher", targets: ["Dispatcher"]),
        .executable(name: "heraldctl", targets: ["HeraldCtl"]),
        .executable(name: "herald-load", targets: ["Load"]),
        .executable(name: "herald-push-sandbox", targets: ["PushSandbox"]),
        .executable(name: "herald-gateway", targets: ["Gateway"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/vapor/jwt-kit.git", from: "5.8.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", "4.0.0"..<"5.0.0"),
        .package(url: "https://github.com/HdrHistogram/hdrhistogram-swift.git", from: "0.2.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.1.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth.git", from: "2.5.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-http2.git", from: "1.46.0"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
    ],
    targets: [
        .systemLibrary(
            name: "CRabbitMQ",
            path: "Shared/CRabbitMQ",
            pkgConfig: "librabbitmq",
            providers: [.apt(["librabbitmq-dev"])]
        ),
        .target(name: "CSystemCalls", path: "Shared/CSystemCalls"),
        .target(
            name: "HeraldCore",
            dependencies: [
                "CSystemCalls",
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Shared/HeraldCore",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "AMQP",
            dependencies: [
                "CRabbitMQ", "HeraldCore",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/AMQP",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Store",
            dependencies: ["HeraldCore"],
            path: "Shared/Store",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SQLiteStore",
            dependencies: [
                "Store", "HeraldCore",
                .product(name: "GRDB", package: "GRDB.swift"),
                // SQLite's own calls, for the send path's point reads (`RawSelect`).
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
            ],
            path: "Shared/SQLiteStore",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PostgresStore",
            dependencies: [
                "Store", "HeraldCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/PostgresStore",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "StoreSelection",
            dependencies: [
                "Store", "SQLiteStore", "PostgresStore", "HeraldRuntime",
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/StoreSelection",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HeraldRuntime",
            dependencies: [
                "HeraldCore", "Auth", "AMQP",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Shared/HeraldRuntime",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Auth",
            dependencies: [
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/Auth",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "Ingest",
            dependencies: [
                "IngestApp", "IngestCore", "Console", "AMQP", "Auth", "Store", "StoreSelection", "HeraldRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/Ingest/Main",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "IngestCore",
            dependencies: [
                "HeraldCore", "AMQP", "Store", "Auth", "HeraldRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Services/Ingest/Core",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "Console",
            dependencies: [
                "IngestCore", "HeraldCore", "Store", "HeraldRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdAuth", package: "hummingbird-auth"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            path: "Services/Ingest/Console",
            resources: [.copy("Resources/console")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "IngestApp",
            dependencies: [
                "IngestCore", "Console", "HeraldCore", "AMQP", "Store", "StoreSelection", "HeraldRuntime", "Auth",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            path: "Services/Ingest/App",
            resources: [.copy("Resources/openapi.yaml")],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "Dispatcher",
            dependencies: [
                "DispatcherApp", "Store", "StoreSelection", "HeraldRuntime",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/Dispatcher/Main",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "DispatcherApp",
            dependencies: [
                "HeraldCore", "AMQP", "Store", "StoreSelection", "HeraldRuntime", "OperationsServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            path: "Services/Dispatcher/App",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "HeraldCtl",
            dependencies: ["HeraldCtlApp"],
            path: "Services/HeraldCtl/Main",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HeraldCtlApp",
            dependencies: [
                "HeraldCore", "AMQP", "Store", "StoreSelection", "HeraldRuntime", "Auth", "HeraldCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Crypto", package: "swift-crypto"),
            ],
            path: "Services/HeraldCtl/App",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "HeraldCommandLine",
            dependencies: [
                "AMQP", "Store", "StoreSelection", "HeraldRuntime",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/CommandLine",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TestSupport",
            dependencies: [
                "HeraldCore", "Store", "SQLiteStore", "PostgresStore", "IngestApp", "IngestCore", "Console", "Auth", "AMQP",
                "HeraldRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
                "PushSandboxApp",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "Load",
            dependencies: ["LoadApp"],
            path: "Services/Load/Main",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "LoadApp",
            dependencies: [
                "HeraldCore", "AMQP", "Auth", "Store", "StoreSelection", "HeraldRuntime", "HeraldCommandLine",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Histogram", package: "hdrhistogram-swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
            ],
            path: "Services/Load/App",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PushProtocol",
            dependencies: [.product(name: "JWTKit", package: "jwt-kit")],
            path: "Shared/PushProtocol",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "OperationsServer",
            dependencies: [
                "HeraldRuntime",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Shared/OperationsServer",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "GatewayApp",
            dependencies: [
                "HeraldCore", "HeraldRuntime", "PushProtocol", "AMQP", "Store", "StoreSelection", "OperationsServer",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Services/Gateway/App",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "Gateway",
            dependencies: [
                "GatewayApp", "Store", "StoreSelection", "HeraldRuntime",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Services/Gateway/Main",
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "PushSandbox",
            dependencies: [
                "PushSandboxApp",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Services/PushSandbox/Main",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PushSandboxApp",
            dependencies: [
                "PushProtocol", "Auth",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdHTTP2", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "Logging", package: "swift-log"),
            ],
            path: "Services/PushSandbox/App",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "PushTests",
            dependencies: [
                "PushSandboxApp", "PushProtocol", "GatewayApp", "HeraldCore", "HeraldRuntime", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "JWTKit", package: "jwt-kit"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "HeraldCoreTests",
            dependencies: ["HeraldCore"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DirectoryTests",
            dependencies: [
                "Store", "SQLiteStore", "PostgresStore", "StoreSelection", "HeraldCore", "HeraldRuntime", "TestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DispatcherTests",
            dependencies: [
                "DispatcherApp", "Store", "SQLiteStore", "HeraldCore", "AMQP", "TestSupport",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IngestTests",
            dependencies: [
                "IngestApp", "IngestCore", "Console", "Store", "SQLiteStore", "HeraldCore", "AMQP", "Auth", "TestSupport", "LoadApp",
                "HeraldRuntime",
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "JWTKit", package: "jwt-kit"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "LoadTests",
            dependencies: [
                "LoadApp", "Store", "SQLiteStore", "HeraldCore", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"), .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "DeploymentTests",
            dependencies: ["AMQP", "HeraldCore", "HeraldRuntime", "TestSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "IntegrationTests",
            dependencies: [
                "IngestApp", "DispatcherApp", "Store", "SQLiteStore", "StoreSelection", "HeraldCore", "AMQP", "Auth", "TestSupport",
                "LoadApp", "PushSandboxApp",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
