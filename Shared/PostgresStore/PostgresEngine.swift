import Foundation
public import Logging
import PostgresNIO
public import Store
import _ConnectionPoolModule

/// A PostgreSQL server every Herald process on every host shares, through a pool of connections
/// (postgres-nio's `PostgresClient`). Opening it migrates the schema, once, however many processes
/// start at the same moment: the migration holds an advisory lock for its transaction.
public final class PostgresEngine: Sendable {
    /// The pool; the stores use it, nothing else should.
    let client: PostgresClient
    let logger: Logger
    /// The store calls under way, each bounded in time whatever the server does (`bounded(_:)`).
    let calls: BoundedCalls
    private let running: Task<Void, Never>

    /// The schema version this code writes and reads.
    public static let schemaVersion = PostgresSchema.steps.count

    /// Connects to the server `settings` names, and migrates its schema.
    /// - Throws: `PostgresStoreError.newerSchema` when the database was migrated by newer code.
    public init(settings: PostgresSettings, logger: Logger) async throws {
        // The migration runs on a connection of its own before the pool starts, so that nothing
        // leases from the pool before its run() is under way.
        try await PostgresSchema.migrate(settings, logger: logger)
        let client = PostgresClient(configuration: try settings.clientConfiguration(), backgroundLogger: logger)
        self.client = client
        self.logger = logger
        // The server ends a slow statement itself (statement_timeout); this bound is for a server
        // that answers nothing at all, so it comes a little later.
        calls = BoundedCalls(timeout: settings.statementTimeout + .seconds(1))
        running = Task { await client.run() }
    }

    /// Runs `body` in a transaction on one connection of the pool. An error `body` throws comes
    /// out as itself (postgres-nio wraps it); a failed BEGIN or COMMIT comes out as the server's.
    func transaction<Result: Sendable>(_ body: (PostgresConnection) async throws -> Result) async throws -> Result {
        do {
            return try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        } catch let error as PostgresTransactionError {
            throw error.underlying
        }
    }

    /// Runs `work` (one store call), but answers within `calls.timeout` even when the server
    /// answers nothing (frozen, or cut off without a reset): the store is then unavailable
    /// (`PostgresStoreError.timedOut`), not hung. `work` itself is cancelled and left to end
    /// when its connection does.
    func bounded<Value: Sendable>(_ work: @escaping @Sendable () async throws -> Value) async throws -> Value {
        try await calls.answer(work)
    }

    deinit { running.cancel() }
}

extension PostgresEngine: StoreEngine {
    public func isUsable() async -> Bool {
        do {
            return try await bounded { [client, logger] in
                for try await value in try await client.query("SELECT 1", logger: logger).decode(Int.self) { return value == 1 }
                return false
            }
        } catch {
            return false
        }
    }

    /// Lost or refused connections, a pool that gave up opening them for now, a server shutting down
    /// or out of resources, a statement that outlived `statement_timeout`, a lock that outlived
    /// `lock_timeout`, serialization failures and deadlocks: all pass, so a caller waits and tries again.
    public func isUnavailable(_ error: any Error) -> Bool {
        if case .timedOut = error as? PostgresStoreError { return true }
        // The pool's own: it gave up opening connections for now (its circuit breaker, after 15 s of
        // failures; it keeps trying), or it is shutting down with the process.
        if let error = error as? ConnectionPoolError {
            return error == .connectionCreationCircuitBreakerTripped || error == .poolShutdown
        }
        guard let error = error as? PSQLError else { return false }
        switch error.code {
        case .connectionError, .serverClosedConnection, .clientClosedConnection, .poolClosed:
            return true
        case .server:
            let state = error.serverInfo?[.sqlState] ?? ""
            // 08 connection, 53 resources, 57 operator intervention (57014: statement timeout),
            // 55P03 lock timeout, 40001 serialization failure, 40P01 deadlock.
            return ["08", "53", "57"].contains(String(state.prefix(2))) || ["55P03", "40001", "40P01"].contains(state)
        default:
            return false
        }
    }
}

/// Why the PostgreSQL store cannot be opened.
public enum PostgresStoreError: Error, CustomStringConvertible {
    /// The database holds a schema newer than this code knows: run the newer version, or restore.
    case newerSchema(found: Int, known: Int)
    /// The server answered nothing within the bound of one store call.
    case timedOut(Duration)
    /// A statement that always answers one row answered none, or a value this code does not know.
    case noAnswer(String)

    public var description: String {
        switch self {
        case .newerSchema(let found, let known):
            "the database's schema is version \(found), newer than this Herald knows (\(known)); run the newer Herald"
        case .timedOut(let bound):
            "the PostgreSQL server answered nothing within \(bound)"
        case .noAnswer(let statement):
            "the PostgreSQL server's answer to \(statement) was not one this Herald understands"
        }
    }
}

extension PostgresTransactionError {
    /// What went wrong, without postgres-nio's wrapping: the error the transaction's body threw,
    /// else the server's answer to BEGIN or COMMIT.
    var underlying: any Error { closureError ?? beginError ?? commitError ?? self }
}
