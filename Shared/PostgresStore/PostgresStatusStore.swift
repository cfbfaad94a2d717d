public import Foundation
public import HeraldCore
import Logging
import PostgresNIO
public import Store

/// The PostgreSQL status store. A finished record is never replaced by an unfinished one, whichever
/// host writes last. The writes of the send path (`recordAccepted`, `save`) of concurrent requests
/// go to the server together (`GroupCommit`): one statement for many sends at peak.
public struct PostgresStatusStore: StatusStore {
    let database: PostgresEngine
    private let accepted: GroupCommit<NotificationStatus, Void>
    private let saves: GroupCommit<NotificationStatus, Void>

    /// The most records one statement writes.
    static let batchLimit = 256
    /// The most statements of one kind in flight at once, each on a connection of the pool. One:
    /// at `make bench`'s peak, 4 in flight made batches of 1.6 records on average and 1 made 4–11,
    /// for the same throughput and a third of the statements (pg_stat_statements).
    static let batchesInFlight = 1

    public init(database: PostgresEngine) {
        self.database = database
        accepted = GroupCommit(
            limit: Self.batchLimit,
            parallel: Self.batchesInFlight,
            writeAll: { records in
                try await database.bounded {
                    let query = RecordAcceptedBatch(records, now: Date().timeIntervalSince1970)
                    for try await _ in try await database.run(query) {}
                }
            }
        )
        saves = GroupCommit(
            limit: Self.batchLimit,
            parallel: Self.batchesInFlight,
            writeAll: { records in
                try await database.bounded {
                    // One statement may not update a row twice: a second record of the same id (two
                    // copies of a request finishing together) goes in a statement after the first.
                    var rest = records
                    while !rest.isEmpty {
                        var seen = Set<String>()
                        var first: [NotificationStatus] = []
                        var later: [NotificationStatus] = []
                        for record in rest {
                            if seen.insert(record.id).inserted { first.append(record) } else { later.append(record) }
                        }
                        let query = SaveStatusBatch(first, now: Date().timeIntervalSince1970)
                        for try await _ in try await database.run(query) {}
                        rest = later
                    }
                }
            }
        )
    }

    static let columns =
        "id, tenant_id, kind, status, accepted_at, deferred_until, dispatched_at, envelopes_ios, envelopes_android, skipped, reason, "
        + "delivery_sent, delivery_expired, initiator, initiator_token, route, targets, "
        + "(SELECT coalesce(json_object_agg(reason, count), '{}')::text FROM delivery_failures f WHERE f.notification_id = notifications.id AND f.count > 0)"

    public func recordAccepted(_ status: NotificationStatus) async throws {
        try await accepted.submit(status)
    }

    public func save(_ status: NotificationStatus) async throws {
        try await saves.submit(status)
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

    public func trail(tenantId: String, since: Date, until: Date?, limit: Int) async throws -> [NotificationStatus] {
        let end = (until ?? .distantFuture).timeIntervalSince1970
        return try await database.bounded {
            try await statuses(
                """
                SELECT \(unescaped: Self.columns) FROM notifications
                WHERE tenant_id = \(tenantId) AND accepted_at >= \(since.timeIntervalSince1970) AND accepted_at < \(end)
                ORDER BY accepted_at, id LIMIT \(limit)
                """
            )
        }
    }

    /// Deletes in batches, each its own statement, through the (tenant, accepted at) index.
    public func prune(acceptedBefore cutoff: Date) async throws -> Int {
        let before = cutoff.timeIntervalSince1970
        let batch = 1000
        var removed = 0
        while true {
            let count = try await database.bounded {
                let rows = try await database.client.query(
                    """
                    WITH gone AS (
                        DELETE FROM notifications WHERE id IN (
                            SELECT n.id FROM tenants t JOIN notifications n ON n.tenant_id = t.id
                            WHERE n.accepted_at < \(before) LIMIT \(batch))
                        RETURNING id),
                    failures AS (DELETE FROM delivery_failures WHERE notification_id IN (SELECT id FROM gone))
                    SELECT count(*)::int8 FROM gone
                    """,
                    logger: database.logger
                )
                var count = 0
                for try await found in rows.decode(Int.self) { count = found }
                return count
            }
            removed += count
            if count < batch { return removed }
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
        typealias Columns = (
            String, String, String, String, Double, Double?, Double?, Int, Int, String, String?, Int, Int, String?, String?, String?,
            String?,
            String
        )
        var found: [NotificationStatus] = []
        for try await raw in rows {
            let row = try raw.decode(Columns.self)
            guard let kind = NotificationKind(rawValue: row.2), let state = DeliveryState(rawValue: row.3) else { continue }
            let skipped = NotificationStatus.skipped(fromColumn: row.9)
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
                    reason: row.10,
                    delivery: .init(sent: row.11, failed: NotificationStatus.skipped(fromColumn: row.17), expired: row.12),
                    initiator: .init(principalColumn: row.13, tokenColumn: row.14, routeColumn: row.15),
                    targets: NotificationTarget(kind: kind, idsColumn: row.16)
                )
            )
        }
        return found
    }
}
