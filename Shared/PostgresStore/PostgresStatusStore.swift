import Foundation
public import HeraldCore
import Logging
import PostgresNIO
public import Store

/// The PostgreSQL status store. A finished record is never replaced by an unfinished one, whichever
/// host writes last.
public struct PostgresStatusStore: StatusStore {
    let database: PostgresEngine

    public init(database: PostgresEngine) { self.database = database }

    static let columns =
        "id, tenant_id, kind, status, accepted_at, deferred_until, dispatched_at, envelopes_ios, envelopes_android, skipped, reason"

    public func recordAccepted(_ status: NotificationStatus) async throws {
        try await database.bounded {
            let now = Date().timeIntervalSince1970
            try await database.client.query(
                """
                INSERT INTO notifications (id, tenant_id, kind, status, accepted_at, updated_at)
                VALUES (\(status.id), \(status.tenantId), \(status.kind.rawValue), \(status.status.rawValue),
                    \(status.acceptedAt.timeIntervalSince1970), \(now))
                ON CONFLICT (id) DO NOTHING
                """,
                logger: database.logger
            )
        }
    }

    public func save(_ status: NotificationStatus) async throws {
        try await database.bounded {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let skipped = String(decoding: try encoder.encode(status.skipped), as: UTF8.self)
            let now = Date().timeIntervalSince1970
            try await database.client.query(
                """
                INSERT INTO notifications (id, tenant_id, kind, status, accepted_at, deferred_until, dispatched_at,
                    envelopes_ios, envelopes_android, skipped, reason, updated_at)
                VALUES (\(status.id), \(status.tenantId), \(status.kind.rawValue), \(status.status.rawValue),
                    \(status.acceptedAt.timeIntervalSince1970), \(status.deferredUntil?.timeIntervalSince1970),
                    \(status.dispatchedAt?.timeIntervalSince1970), \(status.envelopes["ios"] ?? 0), \(status.envelopes["android"] ?? 0),
                    \(skipped), \(status.reason), \(now))
                ON CONFLICT (id) DO UPDATE SET status = excluded.status, deferred_until = excluded.deferred_until,
                    dispatched_at = excluded.dispatched_at, envelopes_ios = excluded.envelopes_ios,
                    envelopes_android = excluded.envelopes_android, skipped = excluded.skipped,
                    reason = excluded.reason, updated_at = excluded.updated_at
                WHERE notifications.status NOT IN ('dispatched', 'failed', 'throttled')
                    OR excluded.status IN ('dispatched', 'failed', 'throttled')
                """,
                logger: database.logger
            )
        }
    }

    public func status(tenantId: String, id: String) async throws -> NotificationStatus? {
        try await database.bounded {
            try await statuses(
                "SELECT \(unescaped: Self.columns) FROM notifications WHERE tenant_id = \(tenantId) AND id = \(id)"
            ).first
        }
    }

    public func recent(tenantId: String, limit: Int) async throws -> [NotificationStatus] {
        try await database.bounded {
            try await statuses(
                """
                SELECT \(unescaped: Self.columns) FROM notifications WHERE tenant_id = \(tenantId)
                ORDER BY accepted_at DESC, id DESC LIMIT \(limit)
                """
            )
        }
    }

    public func statusForOperator(id: String) async throws -> NotificationStatus? {
        try await database.bounded {
            try await statuses("SELECT \(unescaped: Self.columns) FROM notifications WHERE id = \(id)").first
        }
    }

    @discardableResult
    public func reopenFailed(id: String) async throws -> Bool {
        try await database.bounded {
            let now = Date().timeIntervalSince1970
            let rows = try await database.client.query(
                """
                UPDATE notifications SET status = 'accepted', reason = NULL, updated_at = \(now)
                WHERE id = \(id) AND status = 'failed' RETURNING 1
                """,
                logger: database.logger
            )
            for try await _ in rows.decode(Int.self) { return true }
            return false
        }
    }

    private func statuses(_ query: PostgresQuery) async throws -> [NotificationStatus] {
        typealias Columns = (String, String, String, String, Double, Double?, Double?, Int, Int, String, String?)
        var found: [NotificationStatus] = []
        for try await row in try await database.client.query(query, logger: database.logger).decode(Columns.self) {
            guard let kind = NotificationKind(rawValue: row.2), let state = DeliveryState(rawValue: row.3) else { continue }
            let skipped = (try? JSONDecoder().decode([String: Int].self, from: Data(row.9.utf8))) ?? [:]
            found.append(
                NotificationStatus(
                    id: row.0,
                    tenantId: row.1,
                    kind: kind,
                    status: state,
                    acceptedAt: Date(timeIntervalSince1970: row.4),
                    deferredUntil: row.5.map(Date.init(timeIntervalSince1970:)),
                    dispatchedAt: row.6.map(Date.init(timeIntervalSince1970:)),
                    envelopes: ["ios": row.7, "android": row.8],
                    skipped: skipped,
                    reason: row.10
                )
            )
        }
        return found
    }
}
