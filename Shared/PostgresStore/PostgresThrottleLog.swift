public import Foundation
public import HeraldCore
import Logging
import PostgresNIO
public import Store

/// The PostgreSQL throttle log. Each check-and-record is one statement (`herald_throttle_admit`,
/// in the schema) holding an advisory lock on the scope for its transaction, so the dispatchers of
/// every host take turns on one scope and never on two.
public struct PostgresThrottleLog: ThrottleLog {
    let database: PostgresEngine

    public init(database: PostgresEngine) { self.database = database }

    public func admit(scope: String, notificationId: String, rule: SlidingWindow, now: Date) async throws -> Date? {
        try await database.bounded {
            let start = rule.windowStart(at: now).timeIntervalSince1970
            let query = ThrottleAdmitQuery(
                scope: scope,
                notificationId: notificationId,
                windowStart: start,
                at: now.timeIntervalSince1970,
                limit: Int32(clamping: rule.limit)
            )
            let rows = try await database.run(query)
            var recent: [Date] = []
            for try await row in rows { recent = try row.decode([Double].self).map { Date(timeIntervalSince1970: $0) } }
            // Empty: admitted. Otherwise the window is full, and the rule says when room opens.
            return recent.isEmpty ? nil : rule.roomOpens(recent: recent, at: now)
        }
    }

    public func used(scope: String, rule: SlidingWindow, now: Date) async throws -> Int {
        try await database.bounded {
            let start = rule.windowStart(at: now).timeIntervalSince1970
            let rows = try await database.client.query(
                "SELECT COUNT(*)::integer FROM throttle_log WHERE scope = \(scope) AND at > \(start)",
                logger: database.logger
            )
            for try await count in rows.decode(Int.self) { return count }
            return 0
        }
    }
}
