public import HeraldRuntime
public import Logging
public import PostgresStore
import SQLiteStore
public import Store

/// Which store engine a process uses, read from the environment: the one place that chooses.
/// `HERALD_DATABASE_URL` selects PostgreSQL, which processes on many hosts share; without it,
/// the SQLite file at `HERALD_DB_PATH`, which the processes of one host share.
public enum StoreConfiguration: Sendable, Equatable {
    /// The SQLite file at this path.
    case sqlite(path: String)
    /// The PostgreSQL database these settings name.
    case postgres(PostgresSettings)

    /// Reads `HERALD_DATABASE_URL` and `HERALD_DATABASE_POOL_SIZE`, else `HERALD_DB_PATH` (default
    /// `.herald/herald.sqlite`); a value that cannot be used throws an error naming its key.
    public init(environment: EnvironmentReader) throws(ConfigurationError) {
        guard let url = environment.optional("HERALD_DATABASE_URL") else {
            self = .sqlite(path: environment.databasePath)
            return
        }
        var settings: PostgresSettings
        do {
            settings = try PostgresSettings(url: url)
        } catch {
            throw ConfigurationError(key: "HERALD_DATABASE_URL", problem: "is not usable: \(error)")
        }
        settings.poolSize = try environment.int("HERALD_DATABASE_POOL_SIZE", default: PostgresSettings.defaultPoolSize, in: 1...1000)
        self = .postgres(settings)
    }

    /// Where the stores live, for the start-up log line (never a password).
    public var redactedDescription: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        case .postgres(let settings): settings.redactedDescription
        }
    }

    /// Opens the engine (creating and migrating its schema when needed) and every store on it. A
    /// TLS certificate that does not verify is a configuration error naming `HERALD_DATABASE_URL`
    /// (a service stops at start with that one line): waiting would not fix it.
    public func open(logger: Logger) async throws -> Stores {
        switch self {
        case .sqlite(let path):
            return Stores(sqlite: try HeraldDatabase(path: path))
        case .postgres(let settings):
            do {
                return Stores(postgres: try await PostgresEngine(settings: settings, logger: logger))
            } catch {
                guard let problem = settings.tlsProblem(error) else { throw error }
                throw ConfigurationError(
                    key: "HERALD_DATABASE_URL",
                    problem: "(\(settings.redactedDescription)) cannot be used: \(problem)"
                )
            }
        }
    }
}
