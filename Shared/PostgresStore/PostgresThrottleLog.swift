public import Foundation
public import HeraldCore
import Logging
import PostgresNIO
public import Store

/// The PostgreSQL throttle log. Each check-and-record is one transaction holding an advisory lock
/// on the scope, so the dispatchers of every host take turns on one scope and never on two.
public struct PostgresThrottleLog: ThrottleLog {
    let database: PostgresEngine

    public init(database: PostgresEngine) { self.database = database }

    public func admit(scope: String, notificationId: String, rule: SlidingWindow, now: Date) async throws -> Date? {
        try await database.bounded {
            let logger = database.logger
            let start = rule.windowStart(at: now).timeIntervalSince1970
            let at = now.timeIntervalSince1970
            return try await database.transaction { connection in
                try await connection.query("SELECT pg_advisory_xact_lock(hashtextextended(\(scope), 0))", logger: logger)
                let recorded = try await connection.query(
                    "SELECT 1 FROM throttle_log WHERE scope = \(scope) AND notification_id = \(notificationId)",
                    logger: logger
                )
                for try await _ in recorded.decode(Int.self) { return nil }
                try await connection.query("DELETE FROM throttle_log WHERE scope = \(scope) AND at <= \(start)", logger: logger)
                var recent: [Date] = []
                let rows = try await connection.query("SELECT at FROM throttle_log WHERE scope = \(scope) ORDER BY at", logger: logger)
                for try await seconds in rows.decode(Double.self) { recent.append(Date(timeIntervalSince1970: seconds)) }
                let roomOpens = rule.roomOpens(recent: recent, at: now)
                if roomOpens == nil {
                    try await connection.query(
                        "INSERT INTO throttle_log (scope, notification_id, at) VALUES (\(scope), \(notificationId), \(at))",
                        logger: logger
                    )
                }
                return roomOpens
            }
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
