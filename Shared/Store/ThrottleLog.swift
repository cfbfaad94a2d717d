public import Foundation
import GRDB
public import HeraldCore

/// The sliding-window log behind the throttles, shared by every dispatcher.
public protocol ThrottleLog: Sendable {
    /// Atomically checks `rule` for `scope` and, if a send fits, records this one.
    /// A notification already recorded under `scope` is admitted again without counting twice.
    /// - Returns: nil when admitted, otherwise when room opens.
    func admit(scope: String, notificationId: String, rule: SlidingWindow, now: Date) async throws -> Date?
    /// Sends recorded for `scope` inside the window at `now`.
    func used(scope: String, rule: SlidingWindow, now: Date) async throws -> Int
}

/// Scope keys, so a tenant's group sends and a device's sends never share a log. Each part is
/// escaped (`%` and `:` percent-encoded), so ids that contain `:` cannot make two scopes one:
/// tenant `a` with device `b:c` and tenant `a:b` with device `c` get different keys.
public enum ThrottleScope {
    public static func groupSends(tenantId: String) -> String { "group:" + escape(tenantId) }
    public static func deviceSends(tenantId: String, deviceId: String) -> String { "device:" + escape(tenantId) + ":" + escape(deviceId) }

    /// One part of a key, with `%` and `:` percent-encoded.
    static func escape(_ part: String) -> String {
        guard part.contains(where: { $0 == "%" || $0 == ":" }) else { return part }
        return part.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: ":", with: "%3A")
    }
}

/// The SQLite throttle log. Each check-and-record is one IMMEDIATE transaction,
/// which SQLite serializes across every process sharing the file.
public struct SQLiteThrottleLog: ThrottleLog {
    let database: HeraldDatabase

    public init(database: HeraldDatabase) { self.database = database }

    public func admit(scope: String, notificationId: String, rule: SlidingWindow, now: Date) async throws -> Date? {
        try await database.pool.writeWithoutTransaction { db in
            var roomOpens: Date?
            try db.inTransaction(.immediate) {
                if try Bool.fetchOne(
                    db,
                    sql: "SELECT 1 FROM throttle_log WHERE scope = ? AND notification_id = ?",
                    arguments: [scope, notificationId]
                ) != nil {
                    return .commit
                }
                let start = rule.windowStart(at: now).timeIntervalSince1970
                try db.execute(sql: "DELETE FROM throttle_log WHERE scope = ? AND at <= ?", arguments: [scope, start])
                let recent = try Double.fetchAll(db, sql: "SELECT at FROM throttle_log WHERE scope = ? ORDER BY at", arguments: [scope])
                    .map(Date.init(timeIntervalSince1970:))
                roomOpens = rule.roomOpens(recent: recent, at: now)
                if roomOpens == nil {
                    try db.execute(
                        sql: "INSERT INTO throttle_log (scope, notification_id, at) VALUES (?, ?, ?)",
                        arguments: [scope, notificationId, now.timeIntervalSince1970]
                    )
                }
                return .commit
            }
            return roomOpens
        }
    }

    public func used(scope: String, rule: SlidingWindow, now: Date) async throws -> Int {
        try await database.pool.read { db in
            try Int.fetchOne(
                db,
                sql: "SELECT COUNT(*) FROM throttle_log WHERE scope = ? AND at > ?",
                arguments: [scope, rule.windowStart(at: now).timeIntervalSince1970]
            ) ?? 0
        }
    }
}
