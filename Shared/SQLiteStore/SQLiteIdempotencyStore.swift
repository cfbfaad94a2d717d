public import Foundation
import GRDB
import HeraldCore
public import Store

/// The SQLite idempotency store.
public struct SQLiteIdempotencyStore: IdempotencyStore {
    let database: HeraldDatabase
    /// How long a claim may stay unfinished before another call may resume it.
    let abandonAfter: TimeInterval

    public init(database: HeraldDatabase, abandonAfter: TimeInterval = 10) {
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
        let t = now.timeIntervalSince1970
        return try await database.pool.write { db in
            if let row = try Row.fetchOne(
                db,
                sql: "SELECT * FROM idempotency_keys WHERE tenant_id = ? AND key = ?",
                arguments: [tenantId, key]
            ) {
                let claim = IdempotencyClaim(
                    requestHash: row["request_hash"],
                    notificationId: row["notification_id"],
                    done: (row["state"] as String) == "done",
                    createdAt: row["created_at"],
                    updatedAt: row["updated_at"]
                )
                if let decision = claim.decision(requestHash: requestHash, now: t, abandonAfter: abandonAfter) {
                    if case .resume = decision {
                        try db.execute(
                            sql: "UPDATE idempotency_keys SET updated_at = ? WHERE tenant_id = ? AND key = ?",
                            arguments: [t, tenantId, key]
                        )
                    }
                    return decision
                }
            }
            try db.execute(
                sql: """
                    INSERT OR REPLACE INTO idempotency_keys (tenant_id, key, request_hash, notification_id, state, created_at, updated_at)
                    VALUES (?, ?, ?, ?, 'pending', ?, ?)
                    """,
                arguments: [tenantId, key, requestHash, candidateId, t, t]
            )
            if Int.random(in: 0..<256) == 0 {
                try db.execute(sql: "DELETE FROM idempotency_keys WHERE created_at < ?", arguments: [t - Limits.idempotencyWindowSeconds])
            }
            return .proceed(notificationId: candidateId)
        }
    }

    public func complete(tenantId: String, key: String) async throws {
        try await database.pool.write { db in
            try db.execute(
                sql: "UPDATE idempotency_keys SET state = 'done', updated_at = ? WHERE tenant_id = ? AND key = ?",
                arguments: [Date().timeIntervalSince1970, tenantId, key]
            )
        }
    }

    public func release(tenantId: String, key: String) async throws {
        try await database.pool.write { db in
            try db.execute(
                sql: "UPDATE idempotency_keys SET updated_at = 0 WHERE tenant_id = ? AND key = ? AND state = 'pending'",
                arguments: [tenantId, key]
            )
        }
    }
}
