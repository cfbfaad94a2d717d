public import Foundation
public import GRDB
import Store

/// The SQLite database every Herald process on a host shares (WAL mode, so
/// readers never wait for the writer and many processes can use it at once).
public final class HeraldDatabase: Sendable {
    /// The GRDB pool; stores use it, nothing else should.
    public let pool: DatabasePool

    /// Opens (creating if needed) and migrates the database at `path`.
    /// - Parameter busyTimeout: how long a writer waits for another process's write lock.
    public init(path: String, busyTimeout: TimeInterval = 5) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent()
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        var configuration = Configuration()
        configuration.busyMode = .callback(Self.busyWait(timeout: busyTimeout))
        configuration.label = "herald"
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = NORMAL")
        }
        // Processes that open a new file at the same moment race twice: switching it to WAL
        // needs a lock another may hold ("database is locked"), and each may see the schema
        // migration unapplied (the second then fails to record it). A retry finds the other's work done.
        let pool = try Self.retrying { try DatabasePool(path: path, configuration: configuration) }
        try Self.retrying { try Self.migrator.migrate(pool) }
        self.pool = pool
        inline = try InlineReaders(path: path, count: 4, configuration: configuration)
    }

    /// Connections for the short reads of the send path, on the caller's thread.
    private let inline: InlineReaders

    /// A short point read (a few rows by key, never a scan): on the calling thread when a connection
    /// is idle, else through the pool.
    public func quickRead<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        if let answer = try inline.read(body) { return answer }
        return try await pool.read(body)
    }

    /// How a writer waits for another process's write lock: in 0.1 ms steps for the first 10 ms,
    /// then 1 ms steps, until `timeout`. SQLite's own busy timeout sleeps 1, 2, 5, 10, … up to 100 ms
    /// at a time, so ingest and a dispatcher writing the same file kept each other waiting tens of
    /// milliseconds for locks held for well under one.
    static func busyWait(timeout: TimeInterval) -> Database.BusyCallback {
        let fine = 100
        let fineStep: UInt32 = 100
        let coarseStep: UInt32 = 1000
        let coarseTries = max(0, Int((timeout - 0.01) * 1000))
        return { tries in
            guard tries < fine + coarseTries else { return false }
            usleep(tries < fine ? fineStep : coarseStep)
            return true
        }
    }

    /// Runs `body` up to 10 times, backing off 20 ms more each time, while it throws.
    static func retrying<T>(_ body: () throws -> T) throws -> T {
        var attempt = 0
        while true {
            do {
                return try body()
            } catch {
                attempt += 1
                if attempt >= 10 { throw error }
                Thread.sleep(forTimeInterval: 0.02 * Double(attempt))
            }
        }
    }

    /// The schema. Statements say IF NOT EXISTS because several processes may
    /// start at once against a new file.
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS tenants (id TEXT PRIMARY KEY, name TEXT NOT NULL);
                    CREATE TABLE IF NOT EXISTS users (
                        tenant_id TEXT NOT NULL, id TEXT NOT NULL, display_name TEXT NOT NULL,
                        PRIMARY KEY (tenant_id, id));
                    CREATE TABLE IF NOT EXISTS devices (
                        tenant_id TEXT NOT NULL, id TEXT NOT NULL, user_id TEXT, platform TEXT NOT NULL,
                        enrolled INTEGER NOT NULL, company_portal INTEGER NOT NULL,
                        notifications_allowed INTEGER NOT NULL, google_play INTEGER NOT NULL, push_token TEXT,
                        PRIMARY KEY (tenant_id, id));
                    CREATE INDEX IF NOT EXISTS devices_by_user ON devices (tenant_id, user_id);
                    CREATE TABLE IF NOT EXISTS groups (
                        tenant_id TEXT NOT NULL, id TEXT NOT NULL, display_name TEXT NOT NULL,
                        PRIMARY KEY (tenant_id, id));
                    CREATE TABLE IF NOT EXISTS group_members (
                        tenant_id TEXT NOT NULL, group_id TEXT NOT NULL, member_type TEXT NOT NULL, member_id TEXT NOT NULL,
                        PRIMARY KEY (tenant_id, group_id, member_type, member_id)) WITHOUT ROWID;
                    CREATE TABLE IF NOT EXISTS roles (tenant_id TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (tenant_id, id));
                    CREATE TABLE IF NOT EXISTS role_permissions (
                        tenant_id TEXT NOT NULL, role_id TEXT NOT NULL, permission TEXT NOT NULL,
                        PRIMARY KEY (tenant_id, role_id, permission)) WITHOUT ROWID;
                    CREATE TABLE IF NOT EXISTS principals (tenant_id TEXT NOT NULL, id TEXT NOT NULL, PRIMARY KEY (tenant_id, id));
                    CREATE TABLE IF NOT EXISTS principal_roles (
                        tenant_id TEXT NOT NULL, principal_id TEXT NOT NULL, role_id TEXT NOT NULL,
                        PRIMARY KEY (tenant_id, principal_id, role_id)) WITHOUT ROWID;
                    CREATE TABLE IF NOT EXISTS idempotency_keys (
                        tenant_id TEXT NOT NULL, key TEXT NOT NULL, request_hash TEXT NOT NULL,
                        notification_id TEXT NOT NULL, state TEXT NOT NULL, created_at REAL NOT NULL, updated_at REAL NOT NULL,
                        PRIMARY KEY (tenant_id, key));
                    CREATE TABLE IF NOT EXISTS notifications (
                        id TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, kind TEXT NOT NULL, status TEXT NOT NULL,
                        accepted_at REAL NOT NULL, deferred_until REAL, dispatched_at REAL,
                        envelopes_ios INTEGER NOT NULL DEFAULT 0, envelopes_android INTEGER NOT NULL DEFAULT 0,
                        skipped TEXT NOT NULL DEFAULT '{}', reason TEXT, updated_at REAL NOT NULL);
                    CREATE INDEX IF NOT EXISTS notifications_by_tenant ON notifications (tenant_id, accepted_at);
                    CREATE TABLE IF NOT EXISTS throttle_log (
                        scope TEXT NOT NULL, notification_id TEXT NOT NULL, at REAL NOT NULL,
                        PRIMARY KEY (scope, notification_id)) WITHOUT ROWID;
                    CREATE INDEX IF NOT EXISTS throttle_log_by_time ON throttle_log (scope, at);
                    """
            )
        }
        migrator.registerMigration("v2-console-sessions") { db in
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS console_sessions (
                        id_hash TEXT PRIMARY KEY, tenant_id TEXT NOT NULL, principal_id TEXT NOT NULL,
                        csrf TEXT NOT NULL, expires_at REAL NOT NULL) WITHOUT ROWID;
                    CREATE INDEX IF NOT EXISTS console_sessions_by_expiry ON console_sessions (expires_at);
                    """
            )
        }
        migrator.registerMigration("v3-unambiguous-throttle-scopes") { db in
            try migrateThrottleScopes(db)
        }
        // herald-gateway: the envelopes it sent (kept until they expire) and what it tallied per notification.
        migrator.registerMigration("v4-push-ledger") { db in
            try db.execute(
                sql: """
                    CREATE TABLE IF NOT EXISTS sent_envelopes (id TEXT PRIMARY KEY, keep_until REAL NOT NULL) WITHOUT ROWID;
                    CREATE INDEX IF NOT EXISTS sent_envelopes_by_expiry ON sent_envelopes (keep_until);
                    ALTER TABLE notifications ADD COLUMN delivery_sent INTEGER NOT NULL DEFAULT 0;
                    ALTER TABLE notifications ADD COLUMN delivery_expired INTEGER NOT NULL DEFAULT 0;
                    CREATE TABLE IF NOT EXISTS delivery_failures (
                        notification_id TEXT NOT NULL, reason TEXT NOT NULL, count INTEGER NOT NULL,
                        PRIMARY KEY (notification_id, reason)) WITHOUT ROWID;
                    """
            )
        }
        // The audit trail: who sent each notification, through which route, and what it named.
        migrator.registerMigration("v5-audit-trail") { db in
            try db.execute(
                sql: """
                    ALTER TABLE notifications ADD COLUMN initiator TEXT;
                    ALTER TABLE notifications ADD COLUMN initiator_token TEXT;
                    ALTER TABLE notifications ADD COLUMN route TEXT;
                    ALTER TABLE notifications ADD COLUMN targets TEXT;
                    """
            )
        }
        return migrator
    }

    /// Rewrites throttle scopes from `device:<tenant>:<device>` (ambiguous when ids hold `:`) to the
    /// escaped keys of `ThrottleScope`. An old device key is matched against the devices that exist:
    /// one that matches several (tenant, device) pairs is kept for each of them, so a send is never
    /// forgotten, and one that matches none (the device was removed) is dropped.
    static func migrateThrottleScopes(_ db: Database) throws {
        let rows = try Row.fetchAll(db, sql: "SELECT scope, notification_id, at FROM throttle_log")
        try db.execute(sql: "DELETE FROM throttle_log")
        let exists = try db.makeStatement(sql: "SELECT 1 FROM devices WHERE tenant_id = ? AND id = ?")
        for row in rows {
            let scope: String = row[0]
            var scopes: [String] = []
            if scope.hasPrefix("group:") {
                scopes = [ThrottleScope.groupSends(tenantId: String(scope.dropFirst(6)))]
            } else if scope.hasPrefix("device:") {
                let rest = Array(scope.dropFirst(7))
                for (index, character) in rest.enumerated() where character == ":" {
                    let tenant = String(rest[..<index])
                    let device = String(rest[(index + 1)...])
                    if try Bool.fetchOne(exists, arguments: [tenant, device]) != nil {
                        scopes.append(ThrottleScope.deviceSends(tenantId: tenant, deviceId: device))
                    }
                }
            }
            for key in scopes {
                try db.execute(
                    sql: "INSERT OR IGNORE INTO throttle_log (scope, notification_id, at) VALUES (?, ?, ?)",
                    arguments: [key, row[1], row[2]]
                )
            }
        }
    }

    /// Whether `error` says the store cannot be used right now — locked for longer than the busy
    /// timeout, the disk full, an I/O error, out of memory — rather than that what was asked is wrong.
    /// Such errors pass once the host recovers, so a caller waits and tries again instead of giving up.
    public static func isUnavailable(_ error: any Error) -> Bool {
        guard let error = error as? DatabaseError else { return false }
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED, .SQLITE_FULL, .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_NOMEM, .SQLITE_PROTOCOL:
            return true
        default:
            return false
        }
    }

    /// Whether the database answers a trivial query (for readiness checks).
    public func isUsable() async -> Bool {
        (try? await pool.read { db in try Int.fetchOne(db, sql: "SELECT 1") }) == 1
    }
}

extension Database {
    /// How a transaction of `transaction(_:_:)` begins.
    enum Begin: String {
        case deferred = "BEGIN DEFERRED TRANSACTION"
        case immediate = "BEGIN IMMEDIATE TRANSACTION"
    }

    /// `body` in a transaction begun and committed by cached statements, rolled back when `body` or
    /// the commit throws. GRDB's `inTransaction` (and so `read` and `write`) compiles BEGIN and COMMIT
    /// again for every transaction: 5% of the instructions of a send in ingest (BENCHMARKS.md).
    func transaction<T>(_ begin: Begin, _ body: () throws -> T) throws -> T {
        try cachedStatement(sql: begin.rawValue).execute()
        do {
            let result = try body()
            try cachedStatement(sql: "COMMIT TRANSACTION").execute()
            return result
        } catch {
            if isInsideTransaction { try? execute(sql: "ROLLBACK TRANSACTION") }
            throw error
        }
    }
}
