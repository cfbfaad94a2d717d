public import Foundation
public import HeraldCore

/// Notification status records. They hold ids, times and counts, never a title or body.
public protocol StatusStore: Sendable {
    /// Writes the first record of an accepted notification; keeps a record the dispatcher already wrote.
    func recordAccepted(_ status: NotificationStatus) async throws
    /// Replaces a record (the dispatcher's progress). A finished record (dispatched, failed,
    /// throttled) is never replaced by an unfinished one: a late write of a copy cannot undo it.
    func save(_ status: NotificationStatus) async throws
    /// `save` of each record, in order for records of one id; all written or, on an error, any of
    /// them may be. An engine writes them together where it can (one transaction on SQLite).
    func saveAll(_ statuses: [NotificationStatus]) async throws
    /// A notification of the tenant; nil for an unknown id or another tenant's.
    func status(tenantId: String, id: String) async throws -> NotificationStatus?
    /// The tenant's most recent notifications, newest first, at most `limit`.
    func recent(tenantId: String, limit: Int) async throws -> [NotificationStatus]
    /// The audit trail: the tenant's notifications accepted from `since` up to `until` (nil: now
    /// and later), oldest first, at most `limit`.
    func trail(tenantId: String, since: Date, until: Date?, limit: Int) async throws -> [NotificationStatus]
    /// Deletes the notifications accepted before `cutoff`, with their audit part and delivery
    /// counts (`HERALD_AUDIT_RETENTION_DAYS`); returns how many.
    @discardableResult
    func prune(acceptedBefore cutoff: Date) async throws -> Int
    /// A notification of any tenant, for operators (heraldctl); nil for an unknown id.
    func statusForOperator(id: String) async throws -> NotificationStatus?
    /// Marks a failed notification accepted again (its request is being requeued); false when it
    /// is not failed.
    @discardableResult
    func reopenFailed(id: String) async throws -> Bool
}

extension StatusStore {
    /// Each record's `save`, at once: an engine's own batching (its group commit) takes them together.
    public func saveAll(_ statuses: [NotificationStatus]) async throws {
        guard statuses.count > 1 else {
            if let status = statuses.first { try await save(status) }
            return
        }
        // Two records of one id would race; the dispatcher never gives two, but keep their order.
        guard Set(statuses.map(\.id)).count == statuses.count else {
            for status in statuses { try await save(status) }
            return
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for status in statuses { group.addTask { try await save(status) } }
            try await group.waitForAll()
        }
    }
}

/// How both engines' status upserts end: the record is replaced, keeping the first initiator, route
/// and targets, unless that would put a finished record back to unfinished (a late copy of a send
/// never undoes its outcome).
public enum StatusUpsert {
    public static let keepingFinished: String = {
        // Equalities, not constant IN lists: SQLite builds a temporary b-tree for an IN list of more
        // than two values each time the statement runs. The finished states are `isFinished`'s.
        let finished = DeliveryState.allCases.filter(\.isFinished).map { "'\($0.rawValue)'" }
        let storedUnfinished = finished.map { "notifications.status <> \($0)" }.joined(separator: " AND ")
        let incomingFinished = finished.map { "excluded.status = \($0)" }.joined(separator: " OR ")
        return """
            ON CONFLICT (id) DO UPDATE SET status = excluded.status, deferred_until = excluded.deferred_until,
                dispatched_at = excluded.dispatched_at, envelopes_ios = excluded.envelopes_ios,
                envelopes_android = excluded.envelopes_android, skipped = excluded.skipped,
                reason = excluded.reason, updated_at = excluded.updated_at,
                initiator = coalesce(notifications.initiator, excluded.initiator),
                initiator_token = coalesce(notifications.initiator_token, excluded.initiator_token),
                route = coalesce(notifications.route, excluded.route),
                targets = coalesce(notifications.targets, excluded.targets)
            WHERE (\(storedUnfinished))
                OR \(incomingFinished)
            """
    }()
}
