public import Foundation
public import JWTKit

/// The claims of an APNs provider token (ES256, header `kid` = the key id): `iss` is the team id,
/// `iat` when it was signed. APNs takes one for up to an hour and wants it renewed at most every
/// 20 minutes.
public struct APNsProviderClaims: JWTPayload {
    public var iss: IssuerClaim
    public var iat: IssuedAtClaim

    public init(teamId: String, issuedAt: Date) {
        iss = IssuerClaim(value: teamId)
        iat = IssuedAtClaim(value: issuedAt)
    }

    /// APNs checks the time itself; the claims carry nothing to check here.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// The claims of an OAuth2 JWT bearer grant (RFC 7523) signed with a Google service account's
/// key (RS256): `iss` the account's `client_email`, `scope`, `aud` its `token_uri`, and a life
/// of at most an hour.
public struct OAuthGrantClaims: JWTPayload {
    public var iss: IssuerClaim
    public var scope: String
    public var aud: AudienceClaim
    public var iat: IssuedAtClaim
    public var exp: ExpirationClaim

    public init(clientEmail: String, scope: String, tokenURI: String, issuedAt: Date, lifetime: TimeInterval = 3600) {
        iss = IssuerClaim(value: clientEmail)
        self.scope = scope
        aud = AudienceClaim(value: [tokenURI])
        iat = IssuedAtClaim(value: issuedAt)
        exp = ExpirationClaim(value: issuedAt.addingTimeInterval(lifetime))
    }

    /// The token endpoint checks the times itself.
    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// Names and limits of the two push services, from their documentation.
public enum PushLimits {
    /// The OAuth2 scope an FCM access token needs.
    public static let fcmScope = "https://www.googleapis.com/auth/firebase.messaging"
    /// The largest APNs alert payload, in bytes.
    public static let apnsPayloadBytes = 4096
    /// The largest FCM message, in bytes.
    public static let fcmMessageBytes = 4096
    /// The longest FCM `android.ttl`, in seconds (28 days).
    public static let fcmMaxTTLSeconds = 2_419_200.0
}
