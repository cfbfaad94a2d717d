public import Foundation
import JWTKit
import Synchronization

/// Who a verified bearer token speaks for. Permissions are not in the token:
/// they come from the principal's roles in the directory at request time.
public struct TokenIdentity: Sendable, Equatable {
    public var tenantId: String
    public var principalId: String
    public var expiresAt: Date
}

/// Why a token was refused. `description` is safe to return to the caller.
public struct TokenError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    init(_ description: String) { self.description = description }
}

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

/// Mints and verifies Herald's HS256 bearer tokens with jwt-kit.
public struct TokenService: Sendable {
    /// The only algorithm accepted.
    public static let algorithm = "HS256"

    private let keys: JWTKeyCollection
    private let settings: TokenSettings
    private let recent = RecentTokens()

    public init(settings: TokenSettings) async {
        self.settings = settings
        let keys = JWTKeyCollection()
        await keys.add(hmac: HMACKey(from: settings.secret), digestAlgorithm: .sha256)
        self.keys = keys
    }

    /// A signed token for a principal of a tenant, valid for `ttl` seconds.
    public func issue(tenantId: String, principalId: String, ttl: TimeInterval, now: Date = Date()) async throws -> String {
        let claims = HeraldClaims(
            tid: tenantId,
            sub: SubjectClaim(value: principalId),
            exp: ExpirationClaim(value: now.addingTimeInterval(ttl)),
            nbf: nil,
            iat: IssuedAtClaim(value: now),
            iss: settings.issuer.map { IssuerClaim(value: $0) },
            aud: settings.audience.map { AudienceClaim(value: [$0]) }
        )
        return try await keys.sign(claims)
    }

    /// Verifies signature, algorithm, `exp`, `nbf`, and `iss`/`aud` when configured.
    ///
    /// A token verified before is not verified again: an upstream system sends the same token for
    /// its whole life, and parsing and checking it was 3% of ingest's CPU per send. What was
    /// verified depends on the token's text alone (the key and the settings are fixed for the
    /// process), so the answer kept is the answer; only its time window is checked again.
    public func verify(_ token: String, now: Date = Date()) async throws(TokenError) -> TokenIdentity {
        if let known = recent.identity(of: token) {
            guard now < known.identity.expiresAt, known.notBefore.map({ $0 <= now }) ?? true else {
                throw TokenError("the bearer token is expired or not yet valid")
            }
            return known.identity
        }
        let (identity, notBefore) = try await verifyFully(token)
        recent.keep(token, RecentTokens.Verified(identity: identity, notBefore: notBefore))
        return identity
    }

    private func verifyFully(_ token: String) async throws(TokenError) -> (TokenIdentity, Date?) {
        guard let header = JWTHeaderFields(token: token) else {
            throw TokenError("the bearer token is not a JWT")
        }
        guard header.alg == Self.algorithm else {
            throw TokenError("the bearer token must be signed with \(Self.algorithm)")
        }
        let claims: HeraldClaims
        do {
            claims = try await keys.verify(token, as: HeraldClaims.self)
        } catch let error as JWTError where error.errorType == .claimVerificationFailure {
            throw TokenError("the bearer token is expired or not yet valid")
        } catch {
            throw TokenError("the bearer token's signature or claims are invalid")
        }
        if let issuer = settings.issuer, claims.iss?.value != issuer {
            throw TokenError("the bearer token has the wrong issuer")
        }
        if let audience = settings.audience, !(claims.aud?.value.contains(audience) ?? false) {
            throw TokenError("the bearer token is not for this audience")
        }
        guard !claims.tid.isEmpty, !claims.sub.value.isEmpty else {
            throw TokenError("the bearer token names no tenant or principal")
        }
        return (TokenIdentity(tenantId: claims.tid, principalId: claims.sub.value, expiresAt: claims.exp.value), claims.nbf?.value)
    }

}

/// Tokens verified lately, by their text. At most `limit`: when full it starts again empty (a
/// flood of distinct valid tokens costs a full verification each, as without it).
final class RecentTokens: Sendable {
    struct Verified {
        var identity: TokenIdentity
        var notBefore: Date?
    }

    static let limit = 4096
    private let tokens = Mutex<[String: Verified]>([:])

    func identity(of token: String) -> Verified? {
        tokens.withLock { $0[token] }
    }

    func keep(_ token: String, _ verified: Verified) {
        tokens.withLock { tokens in
            if tokens.count >= Self.limit { tokens.removeAll(keepingCapacity: true) }
            tokens[token] = verified
        }
    }
}

/// The claims of a Herald token: `tid` (tenant), `sub` (principal), `exp`, and optionally `nbf`, `iat`, `iss`, `aud`.
struct HeraldClaims: JWTPayload {
    var tid: String
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var nbf: NotBeforeClaim?
    var iat: IssuedAtClaim?
    var iss: IssuerClaim?
    var aud: AudienceClaim?

    func verify(using algorithm: some JWTAlgorithm) async throws {
        try exp.verifyNotExpired()
        try nbf?.verifyNotBefore()
    }
}
