public import Foundation
import Logging
import PostgresNIO
public import PostgresStore
public import SQLiteStore
public import Store

/// The engines every store contract test runs on: the embedded SQLite file and a PostgreSQL
/// server (`HERALD_TEST_DATABASE_URL`, which `make test` starts with `deploy/local/postgres.sh`).
public enum TestStoreEngine: String, CaseIterable, Sendable, CustomStringConvertible {
    case sqlite
    case postgres

    public var description: String { rawValue }

    /// The engine's name as RELIABILITY.md writes it.
    public var displayName: String {
        switch self {
        case .sqlite: "SQLite"
        case .postgres: "PostgreSQL"
        }
    }

    /// A new, empty store on this engine, and `handles` ways into it, as that many processes would
    /// have (two SQLite handles on one file; two connection pools to one PostgreSQL database).
    public func open(handles: Int) async throws -> [TestStore] {
        var stores = [try await open()]
        while stores.count < handles { stores.append(try await stores[0].anotherHandle()) }
        return stores
    }

    /// One way into a new, empty store on this engine.
    public func open() async throws -> TestStore {
        switch self {
        case .sqlite:
            return .sqlite(try temporaryDatabase().0)
        case .postgres:
            var settings = try await Self.freshPostgresDatabase()
            // Fewer than a service's 8: a test holds its engines open while many tests run at once.
            settings.poolSize = 4
            return .postgres(try await PostgresEngine(settings: settings, logger: quietLogger()), settings)
        }
    }

    /// The `HERALD_DATABASE_URL` of a new, empty database on the test server, for a test that
    /// starts Herald's executables.
    public static func freshPostgresURL() async throws -> String {
        testServerURL(database: try await freshPostgresDatabase().database)
    }

    /// `HERALD_TEST_DATABASE_URL` with another database.
    static func testServerURL(database: String) -> String {
        var components = URLComponents(string: ProcessInfo.processInfo.environment["HERALD_TEST_DATABASE_URL"] ?? "")
        components?.path = "/" + database
        return components?.string ?? ""
    }

    /// Creates a database of its own on the test server, so tests that run at once never meet.
    public static func freshPostgresDatabase() async throws -> PostgresSettings {
        guard let url = ProcessInfo.processInfo.environment["HERALD_TEST_DATABASE_URL"] else {
            throw TestSetupError(
                "HERALD_TEST_DATABASE_URL is not set: run make test, or deploy/local/postgres.sh start test 5434 "
                    + "and export HERALD_TEST_DATABASE_URL=$(deploy/local/postgres.sh url test)"
            )
        }
        var settings = try PostgresSettings(url: url)
        let name = "test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
        _ = try await integers(settings, "CREATE DATABASE \(name)")
        settings.database = name
        return settings
    }
}

/// Runs one statement on a connection of its own (not an engine's pool), and returns the integers
/// of its rows' first column (none for a statement without rows).
public func integers(_ settings: PostgresSettings, _ sql: String) async throws -> [Int] {
    var settings = settings
    settings.poolSize = 1
    let client = PostgresClient(configuration: try settings.clientConfiguration())
    return try await withThrowingTaskGroup(of: [Int].self) { group in
        group.addTask {
            await client.run()
            return []
        }
        var found: [Int] = []
        for try await value in try await client.query(PostgresQuery(unsafeSQL: sql)).decode(Int.self) { found.append(value) }
        group.cancelAll()
        return found
    }
}

/// A store of one engine, as a test uses it.
public enum TestStore: Sendable {
    case sqlite(HeraldDatabase)
    case postgres(PostgresEngine, PostgresSettings)

    /// Another way into the same store, as another process would have.
    public func anotherHandle() async throws -> TestStore {
        switch self {
        case .sqlite(let database): .sqlite(try HeraldDatabase(path: database.pool.path))
        case .postgres(_, let settings): .postgres(try await PostgresEngine(settings: settings, logger: quietLogger()), settings)
        }
    }

    /// What a Herald executable needs in its environment to use this store.
    public var serviceEnvironment: [String: String] {
        switch self {
        case .sqlite(let database): return ["HERALD_DB_PATH": database.pool.path]
        case .postgres(_, let settings): return ["HERALD_DATABASE_URL": TestStoreEngine.testServerURL(database: settings.database)]
        }
    }

    /// Every store on this engine.
    public var stores: Stores {
        switch self {
        case .sqlite(let database): Stores(sqlite: database)
        case .postgres(let database, _): Stores(postgres: database)
        }
    }

    public var throttleLog: any ThrottleLog {
        switch self {
        case .sqlite(let database): SQLiteThrottleLog(database: database)
        case .postgres(let database, _): PostgresThrottleLog(database: database)
        }
    }

    public func idempotency(abandonAfter: TimeInterval = 10) -> any IdempotencyStore {
        switch self {
        case .sqlite(let database): SQLiteIdempotencyStore(database: database, abandonAfter: abandonAfter)
        case .postgres(let database, _): PostgresIdempotencyStore(database: database, abandonAfter: abandonAfter)
        }
    }
}

/// A test that cannot be set up, and what to do about it.
public struct TestSetupError: Error, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
