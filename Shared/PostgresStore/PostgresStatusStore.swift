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
            let query = RecordAcceptedQuery(
                id: status.id,
                tenantId: status.tenantId,
                kind: status.kind.rawValue,
                status: status.status.rawValue,
                acceptedAt: status.acceptedAt.timeIntervalSince1970,
                updatedAt: Date().timeIntervalSince1970
            )
            for try await _ in try await database.run(query) {}
        }
    }

    public func save(_ status: NotificationStatus) async throws {
        try await database.bounded {
            let encoder = JSONEncoder()
            encoder.outputFormatting = .sortedKeys
            let query = SaveStatusQuery(
                id: status.id,
                tenantId: status.tenantId,
                kind: status.kind.rawValue,
                status: status.status.rawValue,
                acceptedAt: status.acceptedAt.timeIntervalSince1970,
                deferredUntil: status.deferredUntil?.timeIntervalSince1970,
                dispatchedAt: status.dispatchedAt?.timeIntervalSince1970,
                envelopesIOS: Int32(status.envelopes["ios"] ?? 0),
                envelopesAndroid: Int32(status.envelopes["android"] ?? 0),
                skipped: String(decoding: try encoder.encode(status.skipped), as: UTF8.self),
                reason: status.reason,
                updatedAt: Date().timeIntervalSince1970
            )
            for try await _ in try await database.run(query) {}
        }
    }

    public func status(tenantId: String, id: String) async throws -> NotificationStatus? {
        try await database.bounded {
            try await statuses(database.run(StatusQuery(tenantId: tenantId, id: id))).first
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
        try await statuses(database.client.query(query, logger: database.logger))
    }

    private func statuses(_ rows: some AsyncSequence<PostgresRow, any Error>) async throws -> [NotificationStatus] {
        typealias Columns = (String, String, String, String, Double, Double?, Double?, Int, Int, String, String?)
        var found: [NotificationStatus] = []
        for try await raw in rows {
            let row = try raw.decode(Columns.self)
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
