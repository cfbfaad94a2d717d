public import Foundation
public import HeraldCore
import PostgresNIO
public import Store

/// The dispatcher's first step for a request in one round trip: its status, the throttle's
/// check-and-record and the target device, in one statement (`herald_dispatch_admit`), where the
/// separate calls of the stores would take three; a batch's requests in one statement together.
public struct PostgresDispatchGate: DispatchGate {
    let database: PostgresEngine

    public init(database: PostgresEngine) { self.database = database }

    public func admit(
        tenantId: String,
        notificationId: String,
        scope: String,
        rule: SlidingWindow,
        deviceId: String?,
        now: Date
    ) async throws -> DispatchVerdict {
        try await database.bounded {
            let query = DispatchAdmitQuery(
                tenantId: tenantId,
                notificationId: notificationId,
                scope: scope,
                windowStart: rule.windowStart(at: now).timeIntervalSince1970,
                at: now.timeIntervalSince1970,
                limit: Int32(clamping: rule.limit),
                deviceId: deviceId
            )
            var answer: (finished: String?, recent: [Double]?, device: Device?)?
            for try await row in try await database.run(query) {
                var columns = RowColumns(row)
                answer = (try columns.next(String?.self), try columns.next([Double]?.self), try columns.device())
            }
            guard let answer else { throw PostgresStoreError.noAnswer("herald_dispatch_admit") }
            return try Self.verdict(finished: answer.finished, recent: answer.recent, device: answer.device, rule: rule, now: now)
        }
    }

    /// A batch's questions in one statement (`herald_dispatch_admit_all`), each answered as `admit`
    /// answers it, in order. A statement of its own for each cost the server most of its time per send.
    public func admitAll(_ questions: [GateQuestion]) async throws -> [DispatchVerdict] {
        guard !questions.isEmpty else { return [] }
        return try await database.bounded {
            var verdicts: [DispatchVerdict] = []
            verdicts.reserveCapacity(questions.count)
            for try await row in try await database.run(DispatchAdmitAllQuery(questions)) {
                guard verdicts.count < questions.count else { throw PostgresStoreError.noAnswer("herald_dispatch_admit_all") }
                let question = questions[verdicts.count]
                var columns = RowColumns(row)
                let finished = try columns.next(String?.self)
                let recent = try columns.next([Double]?.self)
                let device = try columns.device()
                verdicts.append(
                    try Self.verdict(finished: finished, recent: recent, device: device, rule: question.rule, now: question.now)
                )
            }
            guard verdicts.count == questions.count else { throw PostgresStoreError.noAnswer("herald_dispatch_admit_all") }
            return verdicts
        }
    }

    /// What the admit function's row says: finished (a copy), throttled, or admitted with the device.
    private static func verdict(
        finished: String?,
        recent: [Double]?,
        device: Device?,
        rule: SlidingWindow,
        now: Date
    ) throws
        -> DispatchVerdict
    {
        if let finished {
            guard let state = DeliveryState(rawValue: finished) else { throw PostgresStoreError.noAnswer("herald_dispatch_admit") }
            return .finished(state)
        }
        if let roomOpens = PostgresThrottleLog.roomOpens(refusedWith: recent ?? [], rule: rule, now: now) {
            return .throttled(roomOpens: roomOpens)
        }
        return .admitted(device: device)
    }
}
