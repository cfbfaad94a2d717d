public import Foundation
import Logging
import PostgresNIO
public import Store

/// herald-gateway's ledger on the PostgreSQL database every gateway shares: an envelope one
/// replica sent is seen as sent by all of them. Each call is one statement (a batch in arrays).
public struct PostgresPushLedger: PushLedger {
    let database: PostgresEngine

    public init(database: PostgresEngine) { self.database = database }

    public func sent(among ids: [String], now: Date) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return try await database.bounded {
            let rows = try await database.client.query(
                "SELECT id FROM sent_envelopes WHERE id = ANY(\(ids)) AND keep_until >= \(now.timeIntervalSince1970)",
                logger: database.logger
            )
            var found: Set<String> = []
            for try await id in rows.decode(String.self) { found.insert(id) }
            return found
        }
    }

    public func recordSent(_ entries: [(id: String, keepUntil: Date)]) async throws {
        guard !entries.isEmpty else { return }
        // One row per id (the last time given), so the statement never meets an id twice.
        var latest: [String: Double] = [:]
        for entry in entries { latest[entry.id] = max(latest[entry.id] ?? 0, entry.keepUntil.timeIntervalSince1970) }
        let ids = Array(latest.keys)
        let times = ids.map { latest[$0]! }
        try await database.bounded {
            try await database.client.query(
                """
                INSERT INTO sent_envelopes (id, keep_until) SELECT * FROM unnest(\(ids)::text[], \(times)::double precision[])
                ON CONFLICT (id) DO UPDATE SET keep_until = greatest(sent_envelopes.keep_until, excluded.keep_until)
                """,
                logger: database.logger
            )
        }
    }

    public func purgeSent(before now: Date) async throws -> Int {
        try await database.bounded {
            let rows = try await database.client.query(
                "WITH gone AS (DELETE FROM sent_envelopes WHERE keep_until < \(now.timeIntervalSince1970) RETURNING 1) SELECT count(*) FROM gone",
                logger: database.logger
            )
            var count = 0
            for try await n in rows.decode(Int.self) { count = n }
            return count
        }
    }

    public func clearPushToken(tenantId: String, deviceId: String, ifStill token: String) async throws -> Bool {
        try await database.bounded {
            let rows = try await database.client.query(
                """
                UPDATE devices SET push_token = NULL WHERE tenant_id = \(tenantId) AND id = \(deviceId) AND push_token = \(token)
                RETURNING 1
                """,
                logger: database.logger
            )
            var cleared = false
            for try await _ in rows.decode(Int.self) { cleared = true }
            return cleared
        }
    }

    public func addDelivery(_ tallies: [String: DeliveryTally]) async throws {
        let tallies = tallies.filter { !$0.value.isEmpty }
        guard !tallies.isEmpty else { return }
        let ids = Array(tallies.keys)
        let sent = ids.map { tallies[$0]!.sent }
        let expired = ids.map { tallies[$0]!.expired }
        let failures = tallies.flatMap { id, tally in
            tally.failed.filter { $0.value != 0 }.map { (id: id, reason: $0.key, count: $0.value) }
        }
        let failedIds = failures.map(\.id)
        let reasons = failures.map(\.reason)
        let counts = failures.map(\.count)
        try await database.bounded {
            try await database.transaction { connection in
                try await connection.query(
                    """
                    UPDATE notifications n SET delivery_sent = n.delivery_sent + t.sent, delivery_expired = n.delivery_expired + t.expired
                    FROM unnest(\(ids)::text[], \(sent)::bigint[], \(expired)::bigint[]) AS t(id, sent, expired) WHERE n.id = t.id
                    """,
                    logger: database.logger
                )
                if !failedIds.isEmpty {
                    try await connection.query(
                        """
                        INSERT INTO delivery_failures (notification_id, reason, count)
                        SELECT t.id, t.reason, t.count FROM unnest(\(failedIds)::text[], \(reasons)::text[], \(counts)::bigint[])
                            AS t(id, reason, count) JOIN notifications n ON n.id = t.id
                        ON CONFLICT (notification_id, reason) DO UPDATE SET count = delivery_failures.count + excluded.count
                        """,
                        logger: database.logger
                    )
                }
            }
        }
    }
}
