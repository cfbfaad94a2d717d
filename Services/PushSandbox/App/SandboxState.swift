public import Foundation
import Synchronization

/// What a test tells the stand-in to do (`POST /sandbox/script`); every field is optional and
/// adds to what was told before, until `POST /sandbox/reset`.
public struct SandboxScript: Codable, Sendable {
    /// Tokens answered as gone from now on: APNs 410 `Unregistered`, FCM 404 `UNREGISTERED`.
    public var gone: [String]?
    /// The next `count` pushes (of `platform`, or of both) are answered 429 with `Retry-After`.
    public var throttle: Throttle?
    /// Every push is answered 503 for this many seconds from now.
    public var unavailableSeconds: Double?
    /// Every push is answered only after this many milliseconds.
    public var delayMillis: Int?
    /// Provider tokens signed before now, and access tokens issued before now, are refused
    /// (APNs 403 `ExpiredProviderToken`, FCM 401): a gateway that renews them goes on.
    public var expireCredentials: Bool?
    /// Every credential is refused until reset (a revoked key): nothing renews past it.
    public var revokeKeys: Bool?

    public struct Throttle: Codable, Sendable {
        public var count: Int
        public var retryAfterSeconds: Int
        public var platform: String?

        public init(count: Int, retryAfterSeconds: Int, platform: String? = nil) {
            self.count = count
            self.retryAfterSeconds = retryAfterSeconds
            self.platform = platform
        }
    }

    public init(
        gone: [String]? = nil,
        throttle: Throttle? = nil,
        unavailableSeconds: Double? = nil,
        delayMillis: Int? = nil,
        expireCredentials: Bool? = nil,
        revokeKeys: Bool? = nil
    ) {
        self.gone = gone
        self.throttle = throttle
        self.unavailableSeconds = unavailableSeconds
        self.delayMillis = delayMillis
        self.expireCredentials = expireCredentials
        self.revokeKeys = revokeKeys
    }
}

/// One push the stand-in accepted.
public struct SandboxPush: Codable, Sendable {
    public var platform: String
    public var token: String
    /// `apns-id`, or the FCM message's `data.envelopeId`.
    public var id: String?
    /// The request's `apns-*` headers (APNs only).
    public var headers: [String: String]
    /// The request body as sent.
    public var body: String
    /// `h2` or `http/1.1`.
    public var httpVersion: String
    public var acceptedAt: Date
}

/// What the stand-in counted since it started or was reset.
public struct SandboxStats: Codable, Sendable {
    /// Accepted pushes by platform.
    public var accepted: [String: Int] = [:]
    /// Refused pushes by `platform:reason` (`ios:BadDeviceToken`, `android:UNREGISTERED`).
    public var refused: [String: Int] = [:]
    /// Accepted pushes whose id had been accepted before.
    public var duplicates = 0
    /// Distinct APNs provider tokens seen (a gateway should reuse one for 20 to 60 minutes).
    public var providerTokens = 0
    /// FCM access tokens issued.
    public var accessTokensIssued = 0
    /// Accepted pushes no longer listed because the record limit was reached.
    public var droppedFromRecord = 0
    /// When the first and the latest accepted push came in (a benchmark's rate between them).
    public var firstAcceptedAt: Date?
    public var lastAcceptedAt: Date?
}

/// The stand-in's memory: the script, what it accepted, its counts and the credentials it issued.
final class SandboxState: Sendable {
    private struct Inner {
        var gone: Set<String> = []
        var throttle: SandboxScript.Throttle?
        var unavailableUntil: Date?
        var delay: Duration = .zero
        var credentialsValidFrom = Date.distantPast
        var keysRevoked = false
        var pushes: [SandboxPush] = []
        var acceptedIds: Set<String> = []
        var stats = SandboxStats()
        /// Provider tokens whose signature checked out → their `iat`.
        var providerTokens: [String: Date] = [:]
        /// Access token → (issued, expires).
        var accessTokens: [String: (issued: Date, expires: Date)] = [:]
    }

    private let inner = Mutex(Inner())
    let recordLimit: Int

    init(recordLimit: Int) { self.recordLimit = recordLimit }

    func apply(_ script: SandboxScript, now: Date = Date()) {
        inner.withLock { state in
            state.gone.formUnion(script.gone ?? [])
            if let throttle = script.throttle { state.throttle = throttle }
            if let seconds = script.unavailableSeconds { state.unavailableUntil = now.addingTimeInterval(seconds) }
            if let millis = script.delayMillis { state.delay = .milliseconds(millis) }
            if script.expireCredentials == true { state.credentialsValidFrom = now }
            if script.revokeKeys == true { state.keysRevoked = true }
        }
    }

    func reset() { inner.withLock { $0 = Inner() } }

    /// A push of `platform` not yet refused for its content: whether the script refuses it for
    /// the service's state (503 or 429, with the seconds to wait), and how long to wait first.
    enum Condition: Equatable {
        case unavailable
        case throttled(retryAfter: Int)
        case gone
        case ok
    }

    func condition(platform: String, token: String, now: Date = Date()) -> (Condition, delay: Duration) {
        inner.withLock { state in
            let delay = state.delay
            if let until = state.unavailableUntil, now < until { return (.unavailable, delay) }
            if var throttle = state.throttle, throttle.count > 0, throttle.platform == nil || throttle.platform == platform {
                throttle.count -= 1
                state.throttle = throttle
                return (.throttled(retryAfter: throttle.retryAfterSeconds), delay)
            }
            return (state.gone.contains(token) ? .gone : .ok, delay)
        }
    }

    /// Whether credentials made at `issued` are still honoured.
    func honours(issuedAt issued: Date) -> Bool {
        // Whole seconds: a JWT's `iat` has no fraction.
        inner.withLock { !$0.keysRevoked && issued.timeIntervalSince1970 >= $0.credentialsValidFrom.timeIntervalSince1970.rounded(.down) }
    }

    var keysRevoked: Bool { inner.withLock { $0.keysRevoked } }

    /// A provider token whose signature, key and team checked out, issued at `issued`.
    func sawProviderToken(_ token: String, issuedAt issued: Date) {
        inner.withLock { state in
            if state.providerTokens.updateValue(issued, forKey: token) == nil { state.stats.providerTokens += 1 }
        }
    }

    /// The `iat` of a provider token seen and verified before, or nil.
    func verifiedProviderToken(_ token: String) -> Date? { inner.withLock { $0.providerTokens[token] } }

    func issueAccessToken(lifetime: TimeInterval, now: Date = Date()) -> String {
        let token = "ya29.sandbox." + (0..<24).map { _ in String(format: "%02x", UInt8.random(in: 0...255)) }.joined()
        inner.withLock { state in
            state.accessTokens[token] = (now, now.addingTimeInterval(lifetime))
            state.stats.accessTokensIssued += 1
        }
        return token
    }

    /// Whether an FCM access token was issued here, has not expired and is still honoured.
    func acceptsAccessToken(_ token: String, now: Date = Date()) -> Bool {
        inner.withLock { state in
            guard let issued = state.accessTokens[token] else { return false }
            return !state.keysRevoked && issued.issued >= state.credentialsValidFrom && now < issued.expires
        }
    }

    func refused(platform: String, reason: String) {
        inner.withLock { $0.stats.refused["\(platform):\(reason)", default: 0] += 1 }
    }

    func accepted(_ push: SandboxPush) {
        inner.withLock { state in
            state.stats.accepted[push.platform, default: 0] += 1
            state.stats.firstAcceptedAt = state.stats.firstAcceptedAt ?? push.acceptedAt
            state.stats.lastAcceptedAt = push.acceptedAt
            if let id = push.id, !state.acceptedIds.insert("\(push.platform):\(id)").inserted { state.stats.duplicates += 1 }
            if state.pushes.count >= recordLimit {  // the older half goes at once: no shift per push
                let drop = max(1, recordLimit / 2)
                state.pushes.removeFirst(min(drop, state.pushes.count))
                state.stats.droppedFromRecord += drop
            }
            state.pushes.append(push)
        }
    }

    var stats: SandboxStats { inner.withLock { $0.stats } }

    func snapshot(platform: String?) -> (pushes: [SandboxPush], stats: SandboxStats) {
        inner.withLock { state in
            (platform.map { p in state.pushes.filter { $0.platform == p } } ?? state.pushes, state.stats)
        }
    }
}
