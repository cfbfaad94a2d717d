public import Foundation
import HeraldCore
import Logging
import PostgresNIO
public import Store

/// The PostgreSQL idempotency store: a key claimed by one ingest host is seen by every other at once.
/// A claim is one transaction that locks the key's row (or, for a new key, inserts it; two hosts
/// inserting the same key at once are told apart by the primary key).
public struct PostgresIdempotencyStore: IdempotencyStore {
    let database: PostgresEngine
    /// How long a claim may stay unfinished before another call may resume it.
    let abandonAfter: TimeInterval

    public init(database: PostgresEngine, abandonAfter: TimeInterval = 10) {
        self.database = database
        self.abandonAfter = abandonAfter
    }

    public func reserve(
        tenantId: String,
        key: String,
        requestHash: String,
        candidateId: String,
        now: Date
    ) async throws -> IdempotencyDecision {
        try await database.bounded {
            let logger = database.logger
            let t = now.timeIntervalSince1970
            let window = Limits.idempotencyWindowSeconds
            let abandonAfter = abandonAfter
            return try await database.transaction { connection in
                // A new key is inserted and claimed; an existing one is left as it is, and locked below.
                let inserted = try await connection.query(
                    """
                    INSERT INTO idempotency_keys (tenant_id, key, request_hash, notification_id, state, created_at, updated_at)
                    VALUES (\(tenantId), \(key), \(requestHash), \(candidateId), 'pending', \(t), \(t))
                    ON CONFLICT (tenant_id, key) DO NOTHING RETURNING 1
                    """,
                    logger: logger
                )
                for try await _ in inserted.decode(Int.self) {
                    if Int.random(in: 0..<256) == 0 {
                        try await connection.query("DELETE FROM idempotency_keys WHERE created_at < \(t - window)", logger: logger)
                    }
                    return .proceed(notificationId: candidateId)
                }
                let rows = try await connection.query(
                    """
                    SELECT request_hash, notification_id, state, created_at, updated_at FROM idempotency_keys
                    WHERE tenant_id = \(tenantId) AND key = \(key) FOR UPDATE
                    """,
                    logger: logger
                )
                var found: IdempotencyClaim?
                for try await (hash, id, state, created, updated) in rows.decode((String, String, String, Double, Double).self) {
                    found = IdempotencyClaim(
                        requestHash: hash,
                        notificationId: id,
                        done: state == "done",
                        createdAt: created,
                        updatedAt: updated
                    )
                }
                guard let found else { return .proceed(notificationId: candidateId) }
                guard let decision = found.decision(requestHash: requestHash, now: t, abandonAfter: abandonAfter) else {
                    // An expired claim: the key starts over with this request.
                    try await connection.query(
                        """
                        UPDATE idempotency_keys SET request_hash = \(requestHash), notification_id = \(candidateId),
                            state = 'pending', created_at = \(t), updated_at = \(t)
                        WHERE tenant_id = \(tenantId) AND key = \(key)
                        """,
                        logger: logger
                    )
                    return .proceed(notificationId: candidateId)
                }
                if case .resume = decision {
                    try await connection.query(
                        "UPDATE idempotency_keys SET updated_at = \(t) WHERE tenant_id = \(tenantId) AND key = \(key)",
                        logger: logger
                    )
                }
                return decision
            }
        }
    }

    public func complete(tenantId: String, key: String) async throws {
        try await database.bounded {
            let t = Date().timeIntervalSince1970
            try await database.client.query(
                "UPDATE idempotency_keys SET state = 'done', updated_at = \(t) WHERE tenant_id = \(tenantId) AND key = \(key)",
                logger: database.logger
            )
        }
    }

    public func release(tenantId: String, key: String) async throws {
        try await database.bounded {
            _ = try await database.client.query(
                "UPDATE idempotency_keys SET updated_at = 0 WHERE tenant_id = \(tenantId) AND key = \(key) AND state = 'pending'",
                logger: database.logger
            )
        }
    }
}
