import Foundation
import GRDB
public import HeraldCore
public import Store

/// The SQLite status store.
public struct SQLiteStatusStore: StatusStore {
    let database: HeraldDatabase

    public init(database: HeraldDatabase) { self.database = database }

    public func recordAccepted(_ status: NotificationStatus) async throws {
        try await database.pool.write { db in
            try db.cachedStatement(
                sql: """
                    INSERT INTO notifications (id, tenant_id, kind, status, accepted_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO NOTHING
                    """
            ).execute(arguments: [
                status.id, status.tenantId, status.kind.rawValue, status.status.rawValue,
                status.acceptedAt.timeIntervalSince1970, Date().timeIntervalSince1970,
            ])
        }
    }

    public func save(_ status: NotificationStatus) async throws {
        let skipped = String(decoding: try JSONEncoder.sorted.encode(status.skipped), as: UTF8.self)
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    INSERT INTO notifications (id, tenant_id, kind, status, accepted_at, deferred_until, dispatched_at,
                        envelopes_ios, envelopes_android, skipped, reason, updated_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                    ON CONFLICT (id) DO UPDATE SET status = excluded.status, deferred_until = excluded.deferred_until,
                        dispatched_at = excluded.dispatched_at, envelopes_ios = excluded.envelopes_ios,
                        envelopes_android = excluded.envelopes_android, skipped = excluded.skipped,
                        reason = excluded.reason, updated_at = excluded.updated_at
                    WHERE notifications.status NOT IN ('dispatched', 'failed', 'throttled')
                        OR excluded.status IN ('dispatched', 'failed', 'throttled')
                    """,
                arguments: [
                    status.id, status.tenantId, status.kind.rawValue, status.status.rawValue,
                    status.acceptedAt.timeIntervalSince1970, status.deferredUntil?.timeIntervalSince1970,
                    status.dispatchedAt?.timeIntervalSince1970, status.envelopes["ios"] ?? 0, status.envelopes["android"] ?? 0,
                    skipped, status.reason, Date().timeIntervalSince1970,
                ]
            )
        }
    }

    public func status(tenantId: String, id: String) async throws -> NotificationStatus? {
        try await database.pool.read { db in
            let statement = try db.cachedStatement(sql: "SELECT * FROM notifications WHERE tenant_id = ? AND id = ?")
            guard let row = try Row.fetchOne(statement, arguments: [tenantId, id]) else {
                return nil
            }
            return NotificationStatus(row: row)
        }
    }

    public func recent(tenantId: String, limit: Int) async throws -> [NotificationStatus] {
        try await database.pool.read { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT * FROM notifications WHERE tenant_id = ? ORDER BY accepted_at DESC, id DESC LIMIT ?
                        """
                ),
                arguments: [tenantId, limit]
            ).compactMap(NotificationStatus.init(row:))
        }
    }

    /// Puts a failed notification back to `accepted`, so a requeued request is processed again
    /// instead of being dropped as finished (`heraldctl dead-letters requeue`). Returns whether it was failed.
    @discardableResult
    public func reopenFailed(id: String) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(
                sql: """
                    UPDATE notifications SET status = 'accepted', reason = NULL, updated_at = ? WHERE id = ? AND status = 'failed'
                    """,
                arguments: [Date().timeIntervalSince1970, id]
            )
            return db.changesCount > 0
        }
    }

    /// A notification of any tenant, for operators (`heraldctl status`).
    public func statusForOperator(id: String) async throws -> NotificationStatus? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT * FROM notifications WHERE id = ?", arguments: [id]).flatMap(NotificationStatus.init(row:))
        }
    }
}

extension NotificationStatus {
    init?(row: Row) {
        guard let kind = NotificationKind(rawValue: row["kind"]), let state = DeliveryState(rawValue: row["status"]) else { return nil }
        let skippedText: String = row["skipped"]
        let skipped = (try? JSONDecoder().decode([String: Int].self, from: Data(skippedText.utf8))) ?? [:]
        self.init(
            id: row["id"],
            tenantId: row["tenant_id"],
            kind: kind,
            status: state,
            acceptedAt: Date(timeIntervalSince1970: row["accepted_at"]),
            deferredUntil: (row["deferred_until"] as Double?).map(Date.init(timeIntervalSince1970:)),
            dispatchedAt: (row["dispatched_at"] as Double?).map(Date.init(timeIntervalSince1970:)),
            envelopes: ["ios": row["envelopes_ios"], "android": row["envelopes_android"]],
            skipped: skipped,
            reason: row["reason"]
        )
    }
}

extension JSONEncoder {
    static var sorted: JSONEncoder {
        let encoder = JSONEncoder()
        encoder.outputFormatting = .sortedKeys
        return encoder
    }
}
