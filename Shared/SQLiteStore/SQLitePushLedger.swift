public import Foundation
import GRDB
public import Store

/// herald-gateway's ledger on the SQLite file of its host.
public struct SQLitePushLedger: PushLedger {
    let database: HeraldDatabase

    public init(database: HeraldDatabase) { self.database = database }

    public func sent(among ids: [String], now: Date) async throws -> Set<String> {
        guard !ids.isEmpty else { return [] }
        return try await database.pool.read { db in
            let lookup = try db.cachedStatement(sql: "SELECT 1 FROM sent_envelopes WHERE id = ? AND keep_until >= ?")
            var found: Set<String> = []
            for id in ids where try Bool.fetchOne(lookup, arguments: [id, now.timeIntervalSince1970]) != nil { found.insert(id) }
            return found
        }
    }

    public func recordSent(_ entries: [(id: String, keepUntil: Date)]) async throws {
        guard !entries.isEmpty else { return }
        try await database.pool.write { db in
            let insert = try db.cachedStatement(
                sql: """
                    INSERT INTO sent_envelopes (id, keep_until) VALUES (?, ?)
                    ON CONFLICT (id) DO UPDATE SET keep_until = max(keep_until, excluded.keep_until)
                    """
            )
            for entry in entries { try insert.execute(arguments: [entry.id, entry.keepUntil.timeIntervalSince1970]) }
        }
    }

    public func purgeSent(before now: Date) async throws -> Int {
        try await database.pool.write { db in
            try db.execute(sql: "DELETE FROM sent_envelopes WHERE keep_until < ?", arguments: [now.timeIntervalSince1970])
            return db.changesCount
        }
    }

    public func clearPushToken(tenantId: String, deviceId: String, ifStill token: String) async throws -> Bool {
        try await database.pool.write { db in
            try db.execute(
                sql: "UPDATE devices SET push_token = NULL WHERE tenant_id = ? AND id = ? AND push_token = ?",
                arguments: [tenantId, deviceId, token]
            )
            return db.changesCount > 0
        }
    }

    public func addDelivery(_ tallies: [String: DeliveryTally]) async throws {
        let tallies = tallies.filter { !$0.value.isEmpty }
        guard !tallies.isEmpty else { return }
        try await database.pool.write { db in
            let counts = try db.cachedStatement(
                sql: "UPDATE notifications SET delivery_sent = delivery_sent + ?, delivery_expired = delivery_expired + ? WHERE id = ?"
            )
            let failure = try db.cachedStatement(
                sql: """
                    INSERT INTO delivery_failures (notification_id, reason, count)
                    SELECT ?, ?, ? WHERE EXISTS (SELECT 1 FROM notifications WHERE id = ?)
                    ON CONFLICT (notification_id, reason) DO UPDATE SET count = count + excluded.count
                    """
            )
            for (id, tally) in tallies {
                try counts.execute(arguments: [tally.sent, tally.expired, id])
                for (reason, count) in tally.failed where count != 0 { try failure.execute(arguments: [id, reason, count, id]) }
            }
        }
    }
}
