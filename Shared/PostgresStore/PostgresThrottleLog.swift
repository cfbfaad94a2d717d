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
            var recent: [Double] = []
            for try await row in try await database.run(query) { recent = try row.decode([Double].self) }
            return Self.roomOpens(refusedWith: recent, rule: rule, now: now)
        }
    }

    /// What `herald_dispatch_admit` answered as `recent`, read: nil when the send was admitted (an
    /// empty array), else when room opens, from the send times inside the window, oldest first.
    static func roomOpens(refusedWith recent: [Double], rule: SlidingWindow, now: Date) -> Date? {
        guard let oldest = recent.first else { return nil }
        let times = recent.map { Date(timeIntervalSince1970: $0) }
        // The server refused it, so room opens later even if a clock step put every time outside.
        return rule.roomOpens(recent: times, at: now) ?? Date(timeIntervalSince1970: oldest).addingTimeInterval(rule.window)
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
