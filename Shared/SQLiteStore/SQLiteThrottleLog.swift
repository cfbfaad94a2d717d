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
            try db.transaction(.immediate) { try Self.admit(db, scope: scope, notificationId: notificationId, rule: rule, now: now) }
        }
    }

    /// The check-and-record inside the caller's IMMEDIATE transaction: nil when admitted (and
    /// recorded, or recorded before), else when room opens.
    static func admit(_ db: Database, scope: String, notificationId: String, rule: SlidingWindow, now: Date) throws -> Date? {
        let recorded = try RawSelect(db, sql: "SELECT 1 FROM throttle_log WHERE scope = ? AND notification_id = ?")
        if try recorded.exists([.text(scope), .text(notificationId)]) {
            return nil
        }
        let start = rule.windowStart(at: now).timeIntervalSince1970
        try db.cachedStatement(sql: "DELETE FROM throttle_log WHERE scope = ? AND at <= ?").execute(arguments: [scope, start])
        let recent = try RawSelect(db, sql: "SELECT at FROM throttle_log WHERE scope = ? ORDER BY at")
            .all([.text(scope)]) { Date(timeIntervalSince1970: $0.real(0)) }
        if let roomOpens = rule.roomOpens(recent: recent, at: now) {
            return roomOpens
        }
        try db.cachedStatement(sql: "INSERT INTO throttle_log (scope, notification_id, at) VALUES (?, ?, ?)")
            .execute(arguments: [scope, notificationId, now.timeIntervalSince1970])
        return nil
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
