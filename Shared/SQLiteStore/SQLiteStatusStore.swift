public import Foundation
import GRDB
public import HeraldCore
public import Store

/// The SQLite status store. The writes of the send path (`recordAccepted`, `save`) of concurrent
/// requests go to the file together (`GroupCommit`): one write transaction for many sends at peak,
/// where each took its own (and its own trip to GRDB's writer queue) before.
public struct SQLiteStatusStore: StatusStore {
    let database: HeraldDatabase
    private let accepted: GroupCommit<NotificationStatus, Void>
    private let saves: GroupCommit<NotificationStatus, Void>

    /// The most records one transaction writes.
    static let batchLimit = 256

    /// The gateway's failures of a notification, as a JSON object (`delivery_failed`).
    static let failures =
        "(SELECT json_group_object(reason, count) FROM delivery_failures WHERE notification_id = notifications.id AND count > 0) AS delivery_failed"

    public init(database: HeraldDatabase) {
        self.database = database
        // One batch in flight: SQLite has one writer per file anyway.
        accepted = GroupCommit(
            limit: Self.batchLimit,
            parallel: 1,
            writeAll: { records in
                try await database.pool.writeWithoutTransaction { db in
                    try db.transaction(.immediate) {
                        let insert = try db.cachedStatement(
                            sql: """
                                INSERT INTO notifications (id, tenant_id, kind, status, accepted_at, updated_at,
                                    initiator, initiator_token, route, targets)
                                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                                ON CONFLICT (id) DO NOTHING
                                """
                        )
                        let now = Date().timeIntervalSince1970
                        for status in records {
                            try insert.execute(arguments: [
                                status.id, status.tenantId, status.kind.rawValue, status.status.rawValue,
                                status.acceptedAt.timeIntervalSince1970, now, status.initiator?.principalId,
                                status.initiator?.tokenId, status.initiator?.route.rawValue, status.targets?.idsColumn,
                            ])
                        }
                    }
                }
            }
        )
        saves = GroupCommit(limit: Self.batchLimit, parallel: 1, writeAll: { records in try await Self.save(records, in: database) })
    }

    /// Writes `records` in one transaction, in the order given: a second record of one id (two
    /// copies finishing together) is applied after the first, as separate calls would have.
    private static func save(_ records: [NotificationStatus], in database: HeraldDatabase) async throws {
        let rows = records.map { status in
            (status, NotificationStatus.skippedColumn(status.skipped))
        }
        try await database.pool.writeWithoutTransaction { db in
            try db.transaction(.immediate) {
                let upsert = try db.cachedStatement(
                    sql: """
                        INSERT INTO notifications (id, tenant_id, kind, status, accepted_at, deferred_until, dispatched_at,
                            envelopes_ios, envelopes_android, skipped, reason, updated_at, initiator, initiator_token, route, targets)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
                        \(StatusUpsert.keepingFinished)
                        """
                )
                let now = Date().timeIntervalSince1970
                for (status, skipped) in rows {
                    try upsert.execute(arguments: [
                        status.id, status.tenantId, status.kind.rawValue, status.status.rawValue,
                        status.acceptedAt.timeIntervalSince1970, status.deferredUntil?.timeIntervalSince1970,
                        status.dispatchedAt?.timeIntervalSince1970, status.envelopes["ios"] ?? 0, status.envelopes["android"] ?? 0,
                        skipped, status.reason, now, status.initiator?.principalId, status.initiator?.tokenId,
                        status.initiator?.route.rawValue, status.targets?.idsColumn,
                    ])
                }
            }
        }
    }

    public func saveAll(_ statuses: [NotificationStatus]) async throws {
        guard !statuses.isEmpty else { return }
        try await Self.save(statuses, in: database)
    }

    public func recordAccepted(_ status: NotificationStatus) async throws {
        try await accepted.submit(status)
    }

    public func save(_ status: NotificationStatus) async throws {
        try await saves.submit(status)
    }

    public func status(tenantId: String, id: String) async throws -> NotificationStatus? {
        try await database.pool.read { db in
            let statement = try db.cachedStatement(sql: "SELECT *, \(Self.failures) FROM notifications WHERE tenant_id = ? AND id = ?")
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
                        SELECT *, \(Self.failures) FROM notifications WHERE tenant_id = ? ORDER BY accepted_at DESC, id DESC LIMIT ?
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

    public func trail(tenantId: String, since: Date, until: Date?, limit: Int) async throws -> [NotificationStatus] {
        try await database.pool.read { db in
            try Row.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT *, \(Self.failures) FROM notifications WHERE tenant_id = ? AND accepted_at >= ? AND accepted_at < ?
                        ORDER BY accepted_at, id LIMIT ?
                        """
                ),
                arguments: [tenantId, since.timeIntervalSince1970, (until ?? .distantFuture).timeIntervalSince1970, limit]
            ).compactMap(NotificationStatus.init(row:))
        }
    }

    public func prune(acceptedBefore cutoff: Date) async throws -> Int {
        var removed = 0
        // In batches, so the one writer of the file is never held long.
        while true {
            let count = try await database.pool.write { db in
                let ids = try String.fetchAll(
                    db,
                    sql: """
                        SELECT n.id FROM tenants t JOIN notifications n ON n.tenant_id = t.id WHERE n.accepted_at < ? LIMIT ?
                        """,
                    arguments: [cutoff.timeIntervalSince1970, Self.pruneBatch]
                )
                for id in ids {
                    try db.execute(sql: "DELETE FROM delivery_failures WHERE notification_id = ?", arguments: [id])
                    try db.execute(sql: "DELETE FROM notifications WHERE id = ?", arguments: [id])
                }
                return ids.count
            }
            removed += count
            if count < Self.pruneBatch { return removed }
        }
    }

    /// The most records one pruning transaction deletes.
    static let pruneBatch = 1000

    /// A notification of any tenant, for operators (`heraldctl status`).
    public func statusForOperator(id: String) async throws -> NotificationStatus? {
        try await database.pool.read { db in
            try Row.fetchOne(db, sql: "SELECT *, \(Self.failures) FROM notifications WHERE id = ?", arguments: [id]).flatMap(
                NotificationStatus.init(row:)
            )
        }
    }
}

extension NotificationStatus {
    init?(row: Row) {
        guard let kind = NotificationKind(rawValue: row["kind"]), let state = DeliveryState(rawValue: row["status"]) else { return nil }
        let skipped = NotificationStatus.skipped(fromColumn: row["skipped"])
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
            reason: row["reason"],
            delivery: Delivery(
                sent: row["delivery_sent"] ?? 0,
                failed: NotificationStatus.skipped(fromColumn: (row["delivery_failed"] as String?) ?? "{}"),
                expired: row["delivery_expired"] ?? 0
            ),
            initiator: Initiator(principalColumn: row["initiator"], tokenColumn: row["initiator_token"], routeColumn: row["route"]),
            targets: NotificationTarget(kind: kind, idsColumn: row["targets"])
        )
    }
}
