public import ArgumentParser
import HeraldRuntime
public import Store

/// `--db`, shared by every command of heraldctl and herald-load that opens the database.
public struct DatabaseOptions: ParsableArguments {
    @Option(name: .customLong("db"), help: "SQLite database (default: $HERALD_DB_PATH or .herald/herald.sqlite).")
    public var path: String?

    public init() {}

    /// Opens the database `--db` names, else `HERALD_DB_PATH`'s.
    public func open() throws -> HeraldDatabase {
        try HeraldDatabase(path: path ?? EnvironmentReader().databasePath)
    }
}
