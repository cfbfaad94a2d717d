public import Foundation
import HeraldCore

/// What to do with a request that carries an `Idempotency-Key`.
public enum IdempotencyDecision: Sendable, Equatable {
    /// First use of the key: publish under this id.
    case proceed(notificationId: String)
    /// The same request was accepted before: answer with its id, publish nothing.
    case replay(notificationId: String)
    /// The same request was started by a process that never finished it (it crashed or
    /// the broker failed): publish again under the same id, so no second notification exists.
    case resume(notificationId: String)
    /// The key was used with another request body.
    case conflict
    /// The same request is being published right now by another call.
    case inProgress
}

/// Remembers idempotency keys per tenant for 24 hours.
public protocol IdempotencyStore: Sendable {
    /// Claims `key` for a request whose canonical hash is `requestHash`.
    func reserve(tenantId: String, key: String, requestHash: String, candidateId: String, now: Date) async throws -> IdempotencyDecision
    /// The request was accepted: later uses of the key replay it.
    func complete(tenantId: String, key: String) async throws
    /// The request failed before a confirm: the next call with the key resumes it at once,
    /// under the same notification id (the broker may hold a copy it never confirmed).
    func release(tenantId: String, key: String) async throws
}

/// A claim on a key as a store found it, and the rule every engine applies to it.
public struct IdempotencyClaim: Sendable {
    public var requestHash: String
    public var notificationId: String
    /// The request it was claimed for was accepted.
    public var done: Bool
    /// Seconds since 1970 when the claim was made, and when it was last taken up.
    public var createdAt: TimeInterval
    public var updatedAt: TimeInterval

    public init(requestHash: String, notificationId: String, done: Bool, createdAt: TimeInterval, updatedAt: TimeInterval) {
        self.requestHash = requestHash
        self.notificationId = notificationId
        self.done = done
        self.createdAt = createdAt
        self.updatedAt = updatedAt
    }

    /// What a request whose canonical hash is `requestHash` gets at `now` (seconds since 1970), or
    /// nil when the claim has expired and the key starts over with that request. On `.resume` the
    /// store records `now` as the claim's `updatedAt` before it answers, so that a third call
    /// finds the claim in progress.
    public func decision(requestHash: String, now: TimeInterval, abandonAfter: TimeInterval) -> IdempotencyDecision? {
        guard now - createdAt < Limits.idempotencyWindowSeconds else { return nil }
        guard self.requestHash == requestHash else { return .conflict }
        if done { return .replay(notificationId: notificationId) }
        if now - updatedAt < abandonAfter { return .inProgress }
        return .resume(notificationId: notificationId)
    }
}
