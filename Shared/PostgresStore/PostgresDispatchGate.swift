public import Foundation
public import HeraldCore
import PostgresNIO
public import Store

/// The dispatcher's first step for a request in one round trip: its status, the throttle's
/// check-and-record and the target device, in one statement (`herald_dispatch_admit`), where the
/// separate calls of the stores would take three.
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
            if let finished = answer.finished {
                guard let state = DeliveryState(rawValue: finished) else { throw PostgresStoreError.noAnswer("herald_dispatch_admit") }
                return .finished(state)
            }
            if let roomOpens = PostgresThrottleLog.roomOpens(refusedWith: answer.recent ?? [], rule: rule, now: now) {
                return .throttled(roomOpens: roomOpens)
            }
            return .admitted(device: answer.device)
        }
    }
}
