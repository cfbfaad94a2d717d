public import Foundation
import GRDB
public import HeraldCore
public import Store

/// The dispatcher's first step on SQLite in one IMMEDIATE transaction: the status, the throttle's
/// check-and-record and the device, read and written together. Three trips to GRDB's queues each
/// woke a thread and compiled their statements again; this is one trip with cached statements.
public struct SQLiteDispatchGate: DispatchGate {
    let database: HeraldDatabase

    public init(database: HeraldDatabase) { self.database = database }

    public func admit(
        tenantId: String,
        notificationId: String,
        scope: String,
        rule: SlidingWindow,
        deviceId: String?,
        now: Date
    ) async throws -> DispatchVerdict {
        try await database.pool.writeWithoutTransaction { db in
            var verdict = DispatchVerdict.admitted(device: nil)
            try db.inTransaction(.immediate) {
                verdict = try Self.admit(
                    db,
                    tenantId: tenantId,
                    notificationId: notificationId,
                    scope: scope,
                    rule: rule,
                    deviceId: deviceId,
                    now: now
                )
                return .commit
            }
            return verdict
        }
    }

    private static func admit(
        _ db: Database,
        tenantId: String,
        notificationId: String,
        scope: String,
        rule: SlidingWindow,
        deviceId: String?,
        now: Date
    ) throws -> DispatchVerdict {
        let status = try db.cachedStatement(sql: "SELECT status FROM notifications WHERE tenant_id = ? AND id = ?")
        if let name = try String.fetchOne(status, arguments: [tenantId, notificationId]),
            let state = DeliveryState(rawValue: name), state.isFinished
        {
            return .finished(state)
        }
        if let roomOpens = try SQLiteThrottleLog.admit(db, scope: scope, notificationId: notificationId, rule: rule, now: now) {
            return .throttled(roomOpens: roomOpens)
        }
        guard let deviceId else { return .admitted(device: nil) }
        return .admitted(device: try SQLiteDirectoryStore.device(db, tenantId: tenantId, deviceId: deviceId))
    }
}
