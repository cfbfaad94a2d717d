public import Foundation
import GRDB
public import HeraldCore
public import Store

/// The dispatcher's first step on SQLite in one IMMEDIATE transaction: the status, the throttle's
/// check-and-record and the device, read and written together. Three trips to GRDB's queues each
/// woke a thread and compiled their statements again; this is one trip with cached statements, and
/// the requests that arrive while one is in flight go together in the next (`GroupCommit`).
public struct SQLiteDispatchGate: DispatchGate {
    private let database: HeraldDatabase
    private let batches: GroupCommit<GateQuestion, DispatchVerdict>

    /// The most requests one transaction admits.
    static let batchLimit = 64

    public init(database: HeraldDatabase) {
        self.database = database
        batches = GroupCommit(limit: Self.batchLimit, parallel: 1) { questions in
            try await Self.admit(questions, in: database)
        }
    }

    public func admit(
        tenantId: String,
        notificationId: String,
        scope: String,
        rule: SlidingWindow,
        deviceId: String?,
        now: Date
    ) async throws -> DispatchVerdict {
        try await batches.submit(
            GateQuestion(tenantId: tenantId, notificationId: notificationId, scope: scope, rule: rule, deviceId: deviceId, now: now)
        )
    }

    /// The questions of a dispatcher's batch, in one transaction of their own.
    public func admitAll(_ questions: [GateQuestion]) async throws -> [DispatchVerdict] {
        guard !questions.isEmpty else { return [] }
        return try await Self.admit(questions, in: database)
    }

    private static func admit(_ questions: [GateQuestion], in database: HeraldDatabase) async throws -> [DispatchVerdict] {
        try await database.pool.writeWithoutTransaction { db in
            // In order, each seeing what the ones before it recorded: two sends to one device in
            // one batch count as two, exactly as one after the other.
            try db.transaction(.immediate) { try questions.map { try Self.admit(db, $0) } }
        }
    }

    private static func admit(_ db: Database, _ question: GateQuestion) throws -> DispatchVerdict {
        let status = try RawSelect(db, sql: "SELECT status FROM notifications WHERE tenant_id = ? AND id = ?")
        if let name = try status.first([.text(question.tenantId), .text(question.notificationId)], read: { $0.text(0) }),
            let state = name.flatMap(DeliveryState.init(rawValue:)), state.isFinished
        {
            return .finished(state)
        }
        if let roomOpens = try SQLiteThrottleLog.admit(
            db,
            scope: question.scope,
            notificationId: question.notificationId,
            rule: question.rule,
            now: question.now
        ) {
            return .throttled(roomOpens: roomOpens)
        }
        guard let deviceId = question.deviceId else { return .admitted(device: nil) }
        return .admitted(device: try SQLiteDirectoryStore.device(db, tenantId: question.tenantId, deviceId: deviceId))
    }
}
