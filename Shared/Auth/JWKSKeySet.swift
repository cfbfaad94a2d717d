public import Foundation
import JWTKit

/// The signing keys of an identity provider's JWKS that Herald accepts: RSA keys for RS256 and
/// P-256 keys for ES256, each with a `kid`. Each key verifies only with its own algorithm, so a
/// token cannot pick how it is checked (an HS256 token "signed" with an RSA public key, `none`).
public struct JWKSKeySet: Sendable {
    /// The algorithms a JWKS token may use.
    public static let algorithms: Set<String> = ["RS256", "ES256"]

    struct Key: Sendable {
        var algorithm: String
        /// A collection holding this one key and nothing else, so jwt-kit has no other to fall back on.
        var verifier: JWTKeyCollection
    }

    let keys: [String: Key]
    /// The key ids, sorted: what the log and the tests show.
    public var keyIds: [String] { keys.keys.sorted() }

    /// A JWKS's usable keys. Keys for other algorithms or for encryption, and keys without `kid`,
    /// are left out; a set with none left, or text that is not a JWKS, is an error.
    public init(json data: Data) async throws(JWKSError) {
        let document: Document
        do {
            document = try JSONDecoder().decode(Document.self, from: data)
        } catch {
            throw JWKSError("is not a JSON Web Key Set ({\"keys\": [...]})")
        }
        var keys: [String: Key] = [:]
        for jwk in document.keys {
            guard let kid = jwk.kid, !kid.isEmpty, jwk.use == nil || jwk.use == "sig" else { continue }
            do {
                if let key = try await Self.key(jwk) { keys[kid] = key }
            } catch {
                throw JWKSError("has a key (kid \(kid)) that cannot be read: \(error)")
            }
        }
        guard !keys.isEmpty else { throw JWKSError("holds no RS256 or ES256 signing key with a kid") }
        self.keys = keys
    }

    private static func key(_ jwk: Document.Entry) async throws -> Key? {
        let verifier = JWTKeyCollection()
        switch (jwk.kty, jwk.alg) {
        case ("RSA", "RS256"), ("RSA", nil):
            guard let n = jwk.n, let e = jwk.e else { throw JWKSError("an RSA key needs n and e") }
            await verifier.add(rsa: try Insecure.RSA.PublicKey(modulus: n, exponent: e), digestAlgorithm: .sha256)
            return Key(algorithm: "RS256", verifier: verifier)
        case ("EC", "ES256"), ("EC", nil):
            guard jwk.crv == "P-256" else { return nil }
            guard let x = jwk.x, let y = jwk.y else { throw JWKSError("an EC key needs x and y") }
            await verifier.add(ecdsa: try ES256PublicKey(parameters: (x, y)))
            return Key(algorithm: "ES256", verifier: verifier)
        default:
            return nil
        }
    }

    /// The fields of a JWK Herald reads; private parts, if a JWKS wrongly holds them, are ignored.
    private struct Document: Decodable {
        struct Entry: Decodable {
            var kty: String
            var kid: String?
            var alg: String?
            var use: String?
            var crv: String?
            var n: String?
            var e: String?
            var x: String?
            var y: String?
        }

        var keys: [Entry]
    }
}

/// Why a JWKS could not be read; `description` completes "the JWKS …".
public struct JWKSError: Error, Sendable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
