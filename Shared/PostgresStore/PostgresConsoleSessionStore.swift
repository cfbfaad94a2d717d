public import Foundation
import Logging
import PostgresNIO
public import Store

/// Console sessions on the PostgreSQL server, so every ingest process on every host honours them.
public struct PostgresConsoleSessionStore: ConsoleSessionStore {
    let database: PostgresEngine

    public init(database: PostgresEngine) { self.database = database }

    public func create(_ session: ConsoleSession, idHash: String, now: Date) async throws {
        try await database.bounded {
            let logger = database.logger
            let expired = now.timeIntervalSince1970
            let expiresAt = session.expiresAt.timeIntervalSince1970
            try await database.transaction { connection in
                try await connection.query("DELETE FROM console_sessions WHERE expires_at <= \(expired)", logger: logger)
                try await connection.query(
                    """
                    INSERT INTO console_sessions (id_hash, tenant_id, principal_id, csrf, expires_at)
                    VALUES (\(idHash), \(session.tenantId), \(session.principalId), \(session.csrf), \(expiresAt))
                    """,
                    logger: logger
                )
            }
        }
    }

    public func session(idHash: String, now: Date) async throws -> ConsoleSession? {
        try await database.bounded {
            let rows = try await database.client.query(
                """
                SELECT tenant_id, principal_id, csrf, expires_at FROM console_sessions
                WHERE id_hash = \(idHash) AND expires_at > \(now.timeIntervalSince1970)
                """,
                logger: database.logger
            )
            for try await (tenant, principal, csrf, expires) in rows.decode((String, String, String, Double).self) {
                return ConsoleSession(tenantId: tenant, principalId: principal, csrf: csrf, expiresAt: Date(timeIntervalSince1970: expires))
            }
            return nil
        }
    }

    public func delete(idHash: String) async throws {
        try await database.bounded {
            _ = try await database.client.query("DELETE FROM console_sessions WHERE id_hash = \(idHash)", logger: database.logger)
        }
    }
}
