public import HeraldRuntime
import SQLiteStore
public import Store

/// Which store engine a process uses, read from the environment: the one place that chooses.
/// Today that is the SQLite file at `HERALD_DB_PATH`, which every process on a host shares.
public enum StoreConfiguration: Sendable, Equatable {
    /// The SQLite file at this path.
    case sqlite(path: String)

    /// Reads `HERALD_DB_PATH` (default `.herald/herald.sqlite`).
    public init(environment: EnvironmentReader) {
        self = .sqlite(path: environment.databasePath)
    }

    /// Where the stores live, for the start-up log line (never a password).
    public var redactedDescription: String {
        switch self {
        case .sqlite(let path): "sqlite:\(path)"
        }
    }

    /// Opens the engine (creating and migrating its schema when needed) and every store on it.
    public func open() throws -> Stores {
        switch self {
        case .sqlite(let path): Stores(sqlite: try HeraldDatabase(path: path))
        }
    }
}
