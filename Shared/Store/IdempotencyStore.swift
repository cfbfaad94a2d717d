public import Foundation

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
