public import CryptoExtras
public import Foundation
public import JWTKit

/// Claims as an identity provider writes them; nil fields are left out.
public struct ProviderClaims: JWTPayload {
    public var iss: String? = ProviderKey.issuer
    public var aud: [String]? = [ProviderKey.audience]
    public var tid: String? = "a"
    public var sub: String? = "p-admin"
    public var oid: String?
    public var exp: Double? = Date().addingTimeInterval(600).timeIntervalSince1970
    public var nbf: Double?
    public var jti: String?
    public init() {}
    public func verify(using algorithm: some JWTAlgorithm) async throws {}
}

/// One signing key of a test identity provider: its public JWK and a way to sign with it.
public struct ProviderKey: Sendable {
    public static let issuer = "https://idp.example.test/tenant/"
    public static let audience = "api://herald"

    public let kid: String
    public let jwk: [String: String]
    public let signer: JWTKeyCollection
    /// The public key as PEM: what an attacker has and uses as an HMAC secret.
    public let publicPEM: String?

    public static func rsa(_ kid: String) async throws -> ProviderKey {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        let primitives = try key.publicKey.getKeyPrimitives()
        let signer = JWTKeyCollection()
        await signer.add(rsa: try Insecure.RSA.PrivateKey(backing: key), digestAlgorithm: .sha256, kid: JWKIdentifier(string: kid))
        let jwk = [
            "kty": "RSA", "kid": kid, "alg": "RS256", "use": "sig",
            "n": base64URL(primitives.modulus), "e": base64URL(primitives.publicExponent),
        ]
        return ProviderKey(kid: kid, jwk: jwk, signer: signer, publicPEM: key.publicKey.pemRepresentation)
    }

    /// A P-256 key whose JWK has no `alg` (allowed: the curve says ES256).
    public static func ec(_ kid: String) async throws -> ProviderKey {
        let key = ES256PrivateKey()
        let signer = JWTKeyCollection()
        await signer.add(ecdsa: key, kid: JWKIdentifier(string: kid))
        guard let parameters = key.publicKey.parameters else { throw TestSetupError("no EC parameters") }
        let jwk = ["kty": "EC", "crv": "P-256", "kid": kid, "x": parameters.x, "y": parameters.y]
        return ProviderKey(kid: kid, jwk: jwk, signer: signer, publicPEM: nil)
    }

    public func token(_ claims: ProviderClaims = ProviderClaims(), kid: String? = nil) async throws -> String {
        try await signer.sign(claims, kid: JWKIdentifier(string: kid ?? self.kid))
    }

    public static func jwks(_ keys: [ProviderKey]) -> Data {
        try! JSONSerialization.data(withJSONObject: ["keys": keys.map(\.jwk)], options: [.sortedKeys])
    }

    public static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_")
    }
}
