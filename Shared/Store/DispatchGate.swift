public import Foundation
public import HeraldCore

/// What the dispatcher learns before it publishes anything for a request.
public enum DispatchVerdict: Sendable, Equatable {
    /// A copy of a request already finished (dispatched, failed or throttled): nothing else was done.
    case finished(DeliveryState)
    /// The throttle refused it; room opens then. Nothing was recorded.
    case throttled(roomOpens: Date)
    /// The throttle admitted it and recorded it (or had recorded it before: a redelivery). For a
    /// device send, the device as the directory has it now (nil when it no longer exists).
    case admitted(device: Device?)
}

/// The dispatcher's first step for a request, asked in one call so that an engine across a
/// network answers it in one round trip: the request's status, then the throttle's
/// check-and-record, then the target device.
public protocol DispatchGate: Sendable {
    /// In order: a finished status ends it (`.finished`); else `rule` is checked and the send
    /// recorded for `scope`, atomically, as `ThrottleLog.admit` does; if admitted and `deviceId` is
    /// given, that device of the tenant is read.
    func admit(
        tenantId: String,
        notificationId: String,
        scope: String,
        rule: SlidingWindow,
        deviceId: String?,
        now: Date
    ) async throws -> DispatchVerdict
    /// `admit` of each question, in order: two questions of one scope count as two, exactly as one
    /// call after the other. An engine answers them together where it can (one transaction on SQLite).
    func admitAll(_ questions: [GateQuestion]) async throws -> [DispatchVerdict]
}

/// One request's question to the gate (`DispatchGate.admit`'s arguments).
public struct GateQuestion: Sendable {
    public var tenantId: String
    public var notificationId: String
    public var scope: String
    public var rule: SlidingWindow
    public var deviceId: String?
    public var now: Date

    public init(tenantId: String, notificationId: String, scope: String, rule: SlidingWindow, deviceId: String?, now: Date) {
        self.tenantId = tenantId
        self.notificationId = notificationId
        self.scope = scope
        self.rule = rule
        self.deviceId = deviceId
        self.now = now
    }
}

extension DispatchGate {
    /// `admit` of one question.
    public func admit(_ question: GateQuestion) async throws -> DispatchVerdict {
        try await admit(
            tenantId: question.tenantId,
            notificationId: question.notificationId,
            scope: question.scope,
            rule: question.rule,
            deviceId: question.deviceId,
            now: question.now
        )
    }

    /// Each question's `admit`, at once where their scopes differ (one round trip each, side by
    /// side, as concurrent requests would be); questions of one scope in order, one after the other.
    public func admitAll(_ questions: [GateQuestion]) async throws -> [DispatchVerdict] {
        var byScope: [String: [Int]] = [:]
        for (index, question) in questions.enumerated() { byScope[question.scope, default: []].append(index) }
        return try await withThrowingTaskGroup(of: [(Int, DispatchVerdict)].self) { group in
            for indices in byScope.values {
                group.addTask {
                    var answers: [(Int, DispatchVerdict)] = []
                    for index in indices { answers.append((index, try await admit(questions[index]))) }
                    return answers
                }
            }
            var verdicts = [DispatchVerdict?](repeating: nil, count: questions.count)
            for try await answers in group {
                for (index, verdict) in answers { verdicts[index] = verdict }
            }
            return verdicts.compactMap { $0 }
        }
    }
}

/// The gate as separate calls of the stores: for an engine in the process, where a call costs no
/// round trip, and for tests that replace one of the stores.
public struct SeparateCallsGate: DispatchGate {
    let statuses: any StatusStore
    let throttle: any ThrottleLog
    let directory: any DirectoryStore

    public init(statuses: any StatusStore, throttle: any ThrottleLog, directory: any DirectoryStore) {
        self.statuses = statuses
        self.throttle = throttle
        self.directory = directory
    }

    public func admit(
        tenantId: String,
        notificationId: String,
        scope: String,
        rule: SlidingWindow,
        deviceId: String?,
        now: Date
    ) async throws -> DispatchVerdict {
        if let existing = try await statuses.status(tenantId: tenantId, id: notificationId), existing.status.isFinished {
            return .finished(existing.status)
        }
        if let roomOpens = try await throttle.admit(scope: scope, notificationId: notificationId, rule: rule, now: now) {
            return .throttled(roomOpens: roomOpens)
        }
        guard let deviceId else { return .admitted(device: nil) }
        return .admitted(device: try await directory.device(tenantId: tenantId, deviceId: deviceId))
    }
}
