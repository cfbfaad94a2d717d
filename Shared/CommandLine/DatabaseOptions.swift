public import ArgumentParser
import HeraldRuntime
import Logging
public import Store
import StoreSelection

/// `--db`, shared by every command of heraldctl and herald-load that opens the stores.
public struct DatabaseOptions: ParsableArguments {
    @Option(
        name: .customLong("db"),
        help: "SQLite database (default: $HERALD_DATABASE_URL, else $HERALD_DB_PATH or .herald/herald.sqlite)."
    )
    public var path: String?

    public init() {}

    /// The stores `--db` names, else the ones the environment names (`StoreConfiguration`).
    public func open() async throws -> Stores {
        let configuration =
            try path.map { StoreConfiguration.sqlite(path: $0) } ?? StoreConfiguration(environment: EnvironmentReader.process())
        var logger = Logger(label: "herald-store")
        logger.logLevel = .warning
        return try await configuration.open(logger: logger)
    }
}
