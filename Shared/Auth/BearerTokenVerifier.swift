public import Foundation
import JWTKit

/// Whom a verified bearer token speaks for. Permissions are not in the token:
/// they come from the principal's roles in the directory at request time.
public struct TokenIdentity: Sendable, Equatable {
    public var tenantId: String
    public var principalId: String
    public var expiresAt: Date
    /// The token's `jti`, when it has one: what the audit trail records to name the token.
    public var tokenId: String?

    public init(tenantId: String, principalId: String, expiresAt: Date, tokenId: String? = nil) {
        self.tenantId = tenantId
        self.principalId = principalId
        self.expiresAt = expiresAt
        self.tokenId = tokenId
    }
}

/// Why a token was refused. `description` is safe to return to the caller.
public struct TokenError: Error, Sendable, Equatable, CustomStringConvertible {
    public enum Kind: Sendable, Equatable {
        /// The token is bad: 401.
        case invalid
        /// The keys that could verify it could not be fetched (the JWKS URL did not answer): 503.
        case keysUnavailable
    }

    public var kind: Kind
    public var description: String

    public init(_ description: String, kind: Kind = .invalid) {
        self.kind = kind
        self.description = description
    }
}

/// Turns a bearer token into the identity it proves. ingest has one: HS256 with the shared
/// secret (`TokenService`) or RS256/ES256 against an identity provider's JWKS (`JWKSVerifier`).
public protocol BearerTokenVerifier: Sendable {
    func verify(_ token: String, now: Date) async throws(TokenError) -> TokenIdentity
}

extension BearerTokenVerifier {
    public func verify(_ token: String) async throws(TokenError) -> TokenIdentity {
        try await verify(token, now: Date())
    }
}

/// What a token's claims must say, and which claims name the tenant and the principal.
public struct ClaimRules: Sendable, Equatable {
    /// `iss` must equal this when set.
    public var issuer: String?
    /// `aud` (a string or a list) must contain this when set.
    public var audience: String?
    /// The claim holding the tenant id (`tid`).
    public var tenantClaim: String
    /// The claim holding the principal id (`sub`; Entra ID puts an application's id in `oid` or `azp`).
    public var principalClaim: String

    public init(issuer: String? = nil, audience: String? = nil, tenantClaim: String = "tid", principalClaim: String = "sub") {
        self.issuer = issuer
        self.audience = audience
        self.tenantClaim = tenantClaim
        self.principalClaim = principalClaim
    }

    /// The identity `claims` prove at `now`, or why not. The signature was checked before.
    func identity(of claims: TokenClaims, now: Date) throws(TokenError) -> TokenIdentity {
        guard let expiresAt = claims.expiresAt else { throw TokenError("the bearer token has no expiry (exp)") }
        try Self.checkWindow(expiresAt: expiresAt, notBefore: claims.notBefore, now: now)
        if let issuer, claims.strings["iss"] != issuer {
            throw TokenError("the bearer token has the wrong issuer")
        }
        if let audience, !claims.audiences.contains(audience) {
            throw TokenError("the bearer token is not for this audience")
        }
        guard let tenant = claims.strings[tenantClaim], !tenant.isEmpty,
            let principal = claims.strings[principalClaim], !principal.isEmpty
        else {
            throw TokenError("the bearer token names no tenant (\(tenantClaim)) or principal (\(principalClaim))")
        }
        return TokenIdentity(tenantId: tenant, principalId: principal, expiresAt: expiresAt, tokenId: claims.strings["jti"])
    }

    static func checkWindow(expiresAt: Date, notBefore: Date?, now: Date) throws(TokenError) {
        guard now < expiresAt, notBefore.map({ $0 <= now }) ?? true else {
            throw TokenError("the bearer token is expired or not yet valid")
        }
    }
}

/// Any token's claims, as verified: every string-valued claim by name, `aud` as a list, `exp`
/// and `nbf`. Which claims matter is `ClaimRules`'s business, so the claim names can be configured.
struct TokenClaims: JWTPayload {
    var strings: [String: String] = [:]
    var audiences: [String] = []
    var expiresAt: Date?
    var notBefore: Date?

    private struct Key: CodingKey {
        var stringValue: String
        var intValue: Int? { nil }
        init(stringValue: String) { self.stringValue = stringValue }
        init?(intValue: Int) { nil }
    }

    init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: Key.self)
        for key in container.allKeys {
            switch key.stringValue {
            case "exp": expiresAt = Date(timeIntervalSince1970: try container.decode(Double.self, forKey: key))
            case "nbf": notBefore = Date(timeIntervalSince1970: try container.decode(Double.self, forKey: key))
            case "aud":
                if let one = try? container.decode(String.self, forKey: key) {
                    audiences = [one]
                } else {
                    audiences = try container.decode([String].self, forKey: key)
                }
            default:
                if let value = try? container.decode(String.self, forKey: key) { strings[key.stringValue] = value }
            }
        }
    }

    func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: Key.self)
        for (name, value) in strings { try container.encode(value, forKey: Key(stringValue: name)) }
        if !audiences.isEmpty { try container.encode(audiences, forKey: Key(stringValue: "aud")) }
        if let expiresAt { try container.encode(expiresAt.timeIntervalSince1970, forKey: Key(stringValue: "exp")) }
        if let notBefore { try container.encode(notBefore.timeIntervalSince1970, forKey: Key(stringValue: "nbf")) }
    }

    /// Nothing here: the time window and the claims are checked by `ClaimRules` against the
    /// caller's clock, after the signature.
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}
