public import Foundation
import GRDB
public import HeraldCore
public import Store

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
