public import Foundation
import JWTKit
import Synchronization

/// Settings for bearer tokens.
public struct TokenSettings: Sendable {
    /// The HS256 key (`HERALD_JWT_SECRET`).
    public var secret: String
    /// Checked when set (`HERALD_JWT_ISSUER`).
    public var issuer: String?
    /// Checked when set (`HERALD_JWT_AUDIENCE`).
    public var audience: String?

    /// The shortest HS256 key accepted, in bytes (the SHA-256 output size).
    public static let minimumSecretBytes = 32

    /// - Throws: a `TokenError` when the secret is shorter than 32 bytes.
    public init(secret: String, issuer: String? = nil, audience: String? = nil) throws(TokenError) {
        guard secret.utf8.count >= Self.minimumSecretBytes else {
            throw TokenError("must be at least \(Self.minimumSecretBytes) bytes long (got \(secret.utf8.count))")
        }
        self.secret = secret
        self.issuer = issuer
        self.audience = audience
    }
}

/// Mints and verifies Herald's own HS256 bearer tokens (claims `tid`, `sub`) with jwt-kit: for
/// local use and `heraldctl token issue`. Tokens from an identity provider go to `JWKSVerifier`.
public struct TokenService: BearerTokenVerifier {
    /// The only algorithm accepted.
    public static let algorithm = "HS256"

    private let keys: JWTKeyCollection
    private let settings: TokenSettings
    private let rules: ClaimRules
    private let recent = RecentTokens()

    public init(settings: TokenSettings) async {
        self.settings = settings
        self.rules = ClaimRules(issuer: settings.issuer, audience: settings.audience)
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: settings.secret), digestAlgorithm: .sha256)
        self.keys = keys
    }

    /// A signed token for a principal of a tenant, valid for `ttl` seconds, with a fresh `jti`.
    public func issue(tenantId: String, principalId: String, ttl: TimeInterval, now: Date = Date()) async throws -> String {
        let claims = HeraldClaims(
            tid: tenantId,
            sub: SubjectClaim(value: principalId),
            exp: ExpirationClaim(value: now.addingTimeInterval(ttl)),
            nbf: nil,
            iat: IssuedAtClaim(value: now),
            iss: settings.issuer.map { IssuerClaim(value: $0) },
            aud: settings.audience.map { AudienceClaim(value: [$0]) },
            jti: IDClaim(value: UUID().uuidString.lowercased())
        )
        return try await keys.sign(claims)
    }

    /// Verifies signature, algorithm, `exp`, `nbf`, and `iss`/`aud` when configured.
    ///
    /// A token verified before is not verified again: an upstream system sends the same token for
    /// its whole life, and parsing and checking it was 3% of ingest's CPU per send. What was
    /// verified depends on the token's text alone (the key and the settings are fixed for the
    /// process), so the answer kept is the answer; only its time window is checked again.
    public func verify(_ token: String, now: Date) async throws(TokenError) -> TokenIdentity {
        if let known = try recent.identity(of: token, generation: 0, now: now) { return known }
        guard let header = JWTHeaderFields(token: token) else {
            throw TokenError("the bearer token is not a JWT")
        }
        guard header.alg == Self.algorithm else {
            throw TokenError("the bearer token must be signed with \(Self.algorithm)")
        }
        return try await recent.verify(token, with: keys, rules: rules, now: now, generation: 0)
    }
}

/// Tokens verified lately, by their text. At most `limit`: when full it starts again empty (a
/// flood of distinct valid tokens costs a full verification each, as without it). Each answer
/// carries the generation of the keys that gave it; an answer of other keys is not an answer.
final class RecentTokens: Sendable {
    struct Verified {
        var identity: TokenIdentity
        var notBefore: Date?
        var generation: Int
    }

    static let limit = 4096
    private let tokens = Mutex<[String: Verified]>([:])

    /// What `token` proved when keys of `generation` verified it, if its time window still holds
    /// at `now`; nil when no answer of those keys is kept.
    func identity(of token: String, generation: Int, now: Date) throws(TokenError) -> TokenIdentity? {
        guard let known = tokens.withLock({ $0[token] }), known.generation == generation else { return nil }
        try ClaimRules.checkWindow(expiresAt: known.identity.expiresAt, notBefore: known.notBefore, now: now)
        return known.identity
    }

    /// Verifies `token`'s signature with `keys` and its claims with `rules` at `now`, and keeps
    /// the answer as one of the keys of `generation`.
    func verify(
        _ token: String,
        with keys: JWTKeyCollection,
        rules: ClaimRules,
        now: Date,
        generation: Int
    ) async throws(TokenError) -> TokenIdentity {
        let claims: TokenClaims
        do {
            claims = try await keys.verify(token, as: TokenClaims.self)
        } catch {
            throw TokenError("the bearer token's signature or claims are invalid")
        }
        let identity = try rules.identity(of: claims, now: now)
        keep(token, Verified(identity: identity, notBefore: claims.notBefore, generation: generation))
        return identity
    }

    private func keep(_ token: String, _ verified: Verified) {
        tokens.withLock { tokens in
            if tokens.count >= Self.limit { tokens.removeAll(keepingCapacity: true) }
            tokens[token] = verified
        }
    }

    func removeAll() {
        tokens.withLock { $0.removeAll(keepingCapacity: true) }
    }
}

/// The claims of a token Herald mints: `tid` (tenant), `sub` (principal), `exp`, `iat`, `jti`,
/// and `iss`, `aud` when configured.
struct HeraldClaims: JWTPayload {
    var tid: String
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var nbf: NotBeforeClaim?
    var iat: IssuedAtClaim?
    var iss: IssuerClaim?
    var aud: AudienceClaim?
    var jti: IDClaim?

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        try nbf?.verifyNotBefore()
    }
}
