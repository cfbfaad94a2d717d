public import Foundation
import GRDB
public import Store

/// Console sessions in the shared SQLite file, so every ingest process on a host honours them.
public struct SQLiteConsoleSessionStore: ConsoleSessionStore {
    let database: HeraldDatabase

    public init(database: HeraldDatabase) { self.database = database }

    /// Stores a new session under `idHash`, and drops sessions that have expired.
    public func create(_ session: ConsoleSession, idHash: String, now: Date) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM console_sessions WHERE expires_at <= ?", arguments: [now.timeIntervalSince1970])
            try db.execute(
                sql: """
                    INSERT INTO console_sessions (id_hash, tenant_id, principal_id, csrf, expires_at) VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [idHash, session.tenantId, session.principalId, session.csrf, session.expiresAt.timeIntervalSince1970]
            )
        }
    }

    /// The session with `idHash`, unless it has expired.
    public func session(idHash: String, now: Date) async throws -> ConsoleSession? {
        try await database.pool.read { db in
            try Row.fetchOne(
                db.cachedStatement(
                    sql: """
                        SELECT tenant_id, principal_id, csrf, expires_at FROM console_sessions WHERE id_hash = ? AND expires_at > ?
                        """
                ),
                arguments: [idHash, now.timeIntervalSince1970]
            )
            .map { ConsoleSession(tenantId: $0[0], principalId: $0[1], csrf: $0[2], expiresAt: Date(timeIntervalSince1970: $0[3])) }
        }
    }

    /// Ends a session (sign-out).
    public func delete(idHash: String) async throws {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM console_sessions WHERE id_hash = ?", arguments: [idHash])
        }
    }
}
