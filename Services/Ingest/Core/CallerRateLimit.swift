public import Foundation
import Synchronization

/// A per-caller limit on sends at ingest (`HERALD_INGEST_RATE`, `HERALD_INGEST_BURST`): a token
/// bucket per principal of a tenant, so one runaway upstream system cannot fill `herald.requests`
/// for every other tenant. It holds per ingest process; the dispatcher's throttles still apply.
public struct CallerRateLimit: Sendable, Equatable {
    /// Sends per second a caller may keep up.
    public var perSecond: Double
    /// Sends a caller may make at once after a quiet spell.
    public var burst: Int

    /// "2 per second (bursts of 10)", for messages.
    public var formatted: String {
        let rate = perSecond == perSecond.rounded() ? String(Int(perSecond)) : String(perSecond)
        return "\(rate) per second (bursts of \(burst))"
    }

    public init(perSecond: Double, burst: Int) {
        precondition(perSecond > 0 && burst >= 1)
        self.perSecond = perSecond
        self.burst = burst
    }
}

/// The buckets of `CallerRateLimit`, one per caller seen lately.
public final class CallerRateLimiter: Sendable {
    private struct Bucket {
        var tokens: Double
        var updated: Date
    }

    private struct State {
        var buckets: [String: Bucket] = [:]
        var pruned = Date.distantPast
    }

    /// Buckets kept before the full ones (idle callers) are dropped, at most once a second: a
    /// full bucket and no bucket admit the same.
    package static let pruneAbove = 10_000

    public let limit: CallerRateLimit
    private let state = Mutex(State())

    public init(limit: CallerRateLimit) { self.limit = limit }

    /// Takes a token for `caller` (tenant and principal): nil when the send may go, else the
    /// whole seconds until it may (for `Retry-After`, at least 1).
    public func admit(tenantId: String, principalId: String, now: Date = Date()) -> Int? {
        let key = tenantId + "\u{0}" + principalId
        let limit = limit
        return state.withLock { state in
            if state.buckets.count > Self.pruneAbove, now.timeIntervalSince(state.pruned) >= 1 || now < state.pruned {
                state.buckets = state.buckets.filter { Self.refilled($0.value, limit, now) < Double(limit.burst) }
                state.pruned = now
            }
            var bucket = state.buckets[key] ?? Bucket(tokens: Double(limit.burst), updated: now)
            bucket.tokens = Self.refilled(bucket, limit, now)
            bucket.updated = now
            defer { state.buckets[key] = bucket }
            guard bucket.tokens >= 1 else { return max(1, Int(((1 - bucket.tokens) / limit.perSecond).rounded(.up))) }
            bucket.tokens -= 1
            return nil
        }
    }

    private static func refilled(_ bucket: Bucket, _ limit: CallerRateLimit, _ now: Date) -> Double {
        min(Double(limit.burst), bucket.tokens + max(0, now.timeIntervalSince(bucket.updated)) * limit.perSecond)
    }
}
