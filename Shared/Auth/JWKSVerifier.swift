public import Foundation
import JWTKit
public import Logging
import Synchronization

/// Where an identity provider's keys come from and how tokens from it are read.
public struct JWKSSettings: Sendable {
    public enum Source: Sendable, Equatable, CustomStringConvertible {
        /// `HERALD_JWKS_PATH`: read again the same way as a URL is fetched again.
        case file(String)
        /// `HERALD_JWKS_URL`.
        case url(String)

        public var description: String {
            switch self {
            case .file(let path): "file \(path)"
            case .url(let url): url
            }
        }
    }

    public var source: Source
    /// `iss` and `aud` are required in this mode; the tenant and principal claims are configurable.
    public var claims: ClaimRules
    /// The least time between two fetches after one that worked (a token naming an unknown `kid`
    /// fetches again, at most this often).
    public var refreshInterval: TimeInterval = 60
    /// A key set older than this is fetched again at the next token, so a key the provider removed
    /// stops verifying within this time even when no new key appears.
    public var maximumAge: TimeInterval = 3600
    /// The first wait after a failed fetch; it doubles up to `refreshInterval`.
    public var retryAfterFailure: TimeInterval = 5

    public init(source: Source, claims: ClaimRules) {
        self.source = source
        self.claims = claims
    }
}

/// Verifies RS256 and ES256 tokens against an identity provider's JWKS, kept in memory and
/// fetched again when a token names a key it does not hold (at most once per `refreshInterval`),
/// when it is older than `maximumAge`, and, after a failed fetch, with a short backoff.
///
/// A token is refused before any cryptography unless its header names an allowed algorithm
/// (`RS256`, `ES256`) and a `kid`, and that key is for that very algorithm. When the key set
/// could not be fetched and a token needs a key not held, the refusal is `keysUnavailable` (503),
/// not `invalid` (401): the token may be good.
public final class JWKSVerifier: BearerTokenVerifier {
    /// Reads the JWKS document; throws when it cannot.
    public typealias Fetch = @Sendable () async throws -> Data

    private struct State {
        var keys: JWKSKeySet?
        var document: Data?
        var generation = 0
        var loadedAt: Date?
        var lastAttempt: Date?
        var consecutiveFailures = 0
        var refreshing: Task<Void, Never>?
    }

    private let settings: JWKSSettings
    private let fetch: Fetch
    private let logger: Logger
    private let state = Mutex(State())
    private let recent = RecentTokens()

    /// - Parameters:
    ///   - initial: a key set read already (at start), or nil to fetch at the first token.
    ///   - failedAt: when a fetch at start failed: the next waits its backoff, so the tokens that
    ///     follow at once are answered at once instead of each waiting for another timeout.
    public init(
        settings: JWKSSettings,
        initial: (keys: JWKSKeySet, document: Data)?,
        failedAt: Date? = nil,
        now: Date = Date(),
        logger: Logger,
        fetch: @escaping Fetch
    ) {
        self.settings = settings
        self.fetch = fetch
        self.logger = logger
        if let initial {
            state.withLock {
                $0.keys = initial.keys
                $0.document = initial.document
                $0.loadedAt = now
                $0.lastAttempt = now
            }
        } else if let failedAt {
            state.withLock {
                $0.lastAttempt = failedAt
                $0.consecutiveFailures = 1
            }
        }
    }

    /// The key ids held now.
    public var keyIds: [String] { state.withLock { $0.keys?.keyIds ?? [] } }

    public func verify(_ token: String, now: Date) async throws(TokenError) -> TokenIdentity {
        let (generation, stale) = state.withLock { state in
            let old = state.loadedAt.map { now.timeIntervalSince($0) >= settings.maximumAge } ?? false
            return (state.generation, old && state.refreshing == nil && mayFetch(state, now: now))
        }
        if stale { Task { await self.refresh(now: now) } }
        if let known = try recent.identity(of: token, generation: generation, now: now) { return known }
        guard let header = JWTHeaderFields(token: token) else {
            throw TokenError("the bearer token is not a JWT")
        }
        guard let alg = header.alg, JWKSKeySet.algorithms.contains(alg) else {
            throw TokenError("the bearer token must be signed with RS256 or ES256")
        }
        guard let kid = header.kid, !kid.isEmpty else {
            throw TokenError("the bearer token names no key (kid)")
        }
        let (key, keyGeneration) = try await key(kid, now: now)
        guard key.algorithm == alg else {
            throw TokenError("the bearer token's key (kid) is for \(key.algorithm), not \(alg)")
        }
        return try await recent.verify(token, with: key.verifier, rules: settings.claims, now: now, generation: keyGeneration)
    }

    /// The key `kid`, fetching the key set again when it is not held and a fetch is allowed.
    private func key(_ kid: String, now: Date) async throws(TokenError) -> (JWKSKeySet.Key, Int) {
        if let found = held(kid) { return found }
        await refresh(now: now)
        if let found = held(kid) { return found }
        let usable = state.withLock { $0.keys != nil && $0.consecutiveFailures == 0 }
        guard usable else {
            throw TokenError("the identity provider's keys could not be fetched; retry later", kind: .keysUnavailable)
        }
        throw TokenError("the bearer token's key (kid) is not one of the identity provider's keys")
    }

    private func held(_ kid: String) -> (JWKSKeySet.Key, Int)? {
        state.withLock { state in state.keys?.keys[kid].map { ($0, state.generation) } }
    }

    /// Fetches the key set if one is due, or waits for the fetch under way. One at a time.
    public func refresh(now: Date = Date()) async {
        let task: Task<Void, Never>? = state.withLock { state in
            if let running = state.refreshing { return running }
            guard mayFetch(state, now: now) else { return nil }
            state.lastAttempt = now
            let task = Task { await self.fetchAndInstall(now: now) }
            state.refreshing = task
            return task
        }
        await task?.value
    }

    private func mayFetch(_ state: State, now: Date) -> Bool {
        guard let last = state.lastAttempt else { return true }
        let wait =
            state.consecutiveFailures == 0
            ? settings.refreshInterval
            : min(settings.refreshInterval, settings.retryAfterFailure * pow(2, Double(state.consecutiveFailures - 1)))
        return now.timeIntervalSince(last) >= wait
    }

    private func fetchAndInstall(now: Date) async {
        let outcome: Result<(JWKSKeySet, Data), JWKSError>
        do {
            let data = try await fetch()
            outcome = .success((try await JWKSKeySet(json: data), data))
        } catch let error as JWKSError {
            outcome = .failure(error)
        } catch {
            outcome = .failure(JWKSError("could not be fetched: \(error)"))
        }
        let changed: [String]? = state.withLock { state in
            defer { state.refreshing = nil }
            switch outcome {
            case .success(let (keys, document)):
                state.consecutiveFailures = 0
                state.loadedAt = now
                guard document != state.document else { return nil }
                state.keys = keys
                state.document = document
                state.generation += 1
                return keys.keyIds
            case .failure:
                state.consecutiveFailures += 1
                return nil
            }
        }
        switch outcome {
        case .success:
            if let changed {
                recent.removeAll()
                logger.info(
                    "identity provider keys loaded",
                    metadata: ["jwks.source": "\(settings.source)", "jwks.kids": "\(changed.joined(separator: ","))"]
                )
            }
        case .failure(let error):
            logger.warning(
                "identity provider keys not refreshed",
                metadata: ["jwks.source": "\(settings.source)", "error": "the JWKS \(error)"]
            )
        }
    }
}
