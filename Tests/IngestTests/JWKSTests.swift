import Auth
import CryptoExtras
import Foundation
import HeraldRuntime
import Hummingbird
import HummingbirdTesting
import IngestApp
import JWTKit
import Logging
import Synchronization
import TestSupport
import Testing

/// A JWKS document that can change under the verifier, and how often it was read.
final class ServedJWKS: Sendable {
    private let state: Mutex<(document: Data, reads: Int, failing: Bool)>
    init(_ keys: [ProviderKey]) { state = Mutex((ProviderKey.jwks(keys), 0, false)) }

    var reads: Int { state.withLock { $0.reads } }
    func serve(_ keys: [ProviderKey]) { state.withLock { $0.document = ProviderKey.jwks(keys) } }
    func fail(_ failing: Bool) { state.withLock { $0.failing = failing } }

    func read() throws -> Data {
        try state.withLock { state in
            state.reads += 1
            if state.failing { throw JWKSError("did not answer") }
            return state.document
        }
    }
}

@Suite struct JWKSTests {
    static let issuer = ProviderKey.issuer
    static let audience = ProviderKey.audience
    static let logger = Logger(label: "test")

    static func settings(
        _ source: JWKSSettings.Source = .file("/unused"),
        tenantClaim: String = "tid",
        principalClaim: String = "sub"
    )
        -> JWKSSettings
    {
        JWKSSettings(
            source: source,
            claims: ClaimRules(issuer: issuer, audience: audience, tenantClaim: tenantClaim, principalClaim: principalClaim)
        )
    }

    /// A verifier over `served`, loaded at `start`.
    static func verifier(_ served: ServedJWKS, settings: JWKSSettings = settings(), start: Date) async throws -> JWKSVerifier {
        let document = try served.read()
        return JWKSVerifier(
            settings: settings,
            initial: (try await JWKSKeySet(json: document), document),
            now: start,
            logger: logger,
            fetch: { try served.read() }
        )
    }

    @Test func rs256AndES256TokensFromTheKeySetAreAccepted() async throws {
        let (rsa, ec) = (try await ProviderKey.rsa("r1"), try await ProviderKey.ec("e1"))
        let verifier = try await Self.verifier(ServedJWKS([rsa, ec]), start: Date())
        var claims = ProviderClaims()
        claims.jti = "token-1"
        let fromRSA = try await verifier.verify(try await rsa.token(claims))
        #expect(fromRSA.tenantId == "a" && fromRSA.principalId == "p-admin" && fromRSA.tokenId == "token-1")
        let fromEC = try await verifier.verify(try await ec.token())
        #expect(fromEC.tenantId == "a" && fromEC.principalId == "p-admin" && fromEC.tokenId == nil)
        #expect(verifier.keyIds == ["e1", "r1"])
    }

    @Test func theTenantAndPrincipalClaimsAreConfigurable() async throws {
        let rsa = try await ProviderKey.rsa("r1")
        let settings = Self.settings(tenantClaim: "tid", principalClaim: "oid")
        let verifier = try await Self.verifier(ServedJWKS([rsa]), settings: settings, start: Date())
        var claims = ProviderClaims()
        claims.sub = "some-user-object"
        claims.oid = "p-admin"
        #expect(try await verifier.verify(try await rsa.token(claims)).principalId == "p-admin")
        claims.oid = nil
        await #expect(throws: TokenError("the bearer token names no tenant (tid) or principal (oid)")) {
            try await verifier.verify(try await rsa.token(claims))
        }
    }

    @Test func aNewKeyIsFetchedAtMostOnceAMinuteAndARemovedOneIsRefused() async throws {
        let (old, new) = (try await ProviderKey.rsa("k-old"), try await ProviderKey.ec("k-new"))
        let served = ServedJWKS([old])
        let start = Date()
        let verifier = try await Self.verifier(served, start: start)
        let oldToken = try await old.token()
        let newToken = try await new.token()
        #expect(try await verifier.verify(oldToken, now: start).principalId == "p-admin")

        served.serve([new])
        // Within a minute of the last fetch an unknown kid fetches nothing and is refused.
        for second in [1.0, 30, 59] {
            await #expect(throws: TokenError.self) { try await verifier.verify(newToken, now: start + second) }
        }
        #expect(served.reads == 1)
        // A minute on, the unknown kid fetches the set again and is accepted.
        #expect(try await verifier.verify(newToken, now: start + 61).principalId == "p-admin")
        #expect(served.reads == 2)
        // The removed key no longer verifies, though its token was accepted (and kept) before.
        await #expect(throws: TokenError("the bearer token's key (kid) is not one of the identity provider's keys")) {
            try await verifier.verify(oldToken, now: start + 62)
        }
        #expect(served.reads == 2)
    }

    @Test func aKeySetOlderThanItsMaximumAgeIsFetchedAgain() async throws {
        let (old, new) = (try await ProviderKey.rsa("k-old"), try await ProviderKey.rsa("k-new"))
        let served = ServedJWKS([old])
        let start = Date()
        var settings = Self.settings()
        settings.maximumAge = 600
        let verifier = try await Self.verifier(served, settings: settings, start: start)
        let oldToken = try await old.token()
        #expect(try await verifier.verify(oldToken, now: start).principalId == "p-admin")
        served.serve([new])
        // Old enough: this token starts a fetch in the background and is answered from what is held.
        _ = try? await verifier.verify(oldToken, now: start + 601)
        await verifier.refresh(now: start + 601)
        #expect(served.reads == 2)
        await #expect(throws: TokenError.self) { try await verifier.verify(oldToken, now: start + 602) }
    }

    @Test func forgedAndConfusedTokensAreRefused() async throws {
        let (rsa, ec) = (try await ProviderKey.rsa("r1"), try await ProviderKey.ec("e1"))
        let verifier = try await Self.verifier(ServedJWKS([rsa, ec]), start: Date())
        let attackerRSA = try await ProviderKey.rsa("r1")
        let valid = try await rsa.token()
        let parts = valid.split(separator: ".").map(String.init)

        // HS256 "signed" with what an attacker has: the RSA public key, as PEM and as the JWK's modulus.
        let confused = JWTKeyCollection()
        await confused.add(hmac: HMACKey(from: try #require(rsa.publicPEM)), digestAlgorithm: .sha256, kid: "r1")
        let modulusKeyed = JWTKeyCollection()
        await modulusKeyed.add(hmac: HMACKey(from: try #require(rsa.jwk["n"])), digestAlgorithm: .sha256, kid: "r1")
        // RS256 with the attacker's own RSA key, naming the provider's EC key.
        let wrongKeyType = JWTKeyCollection()
        await wrongKeyType.add(
            rsa: try Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048)),
            digestAlgorithm: .sha256,
            kid: "e1"
        )
        let noKid = JWTKeyCollection()
        await noKid.add(rsa: try Insecure.RSA.PrivateKey(backing: _RSA.Signing.PrivateKey(keySize: .bits2048)), digestAlgorithm: .sha256)
        let none = base64URL(#"{"alg":"none","kid":"r1","typ":"JWT"}"#)
        let hs256Header = base64URL(#"{"alg":"HS256","kid":"r1","typ":"JWT"}"#)

        func with(_ change: (inout ProviderClaims) -> Void) -> ProviderClaims {
            var claims = ProviderClaims()
            change(&claims)
            return claims
        }
        let now = Date().timeIntervalSince1970
        let hostile: [(String, String, String)] = [
            ("HS256 keyed with the RSA public key (PEM)", try await confused.sign(ProviderClaims(), kid: "r1"), "RS256 or ES256"),
            ("HS256 keyed with the RSA modulus", try await modulusKeyed.sign(ProviderClaims(), kid: "r1"), "RS256 or ES256"),
            ("HS256 header on a valid RS256 signature", "\(hs256Header).\(parts[1]).\(parts[2])", "RS256 or ES256"),
            ("RS256 naming an ES256 key", try await wrongKeyType.sign(ProviderClaims(), kid: "e1"), "is for ES256, not RS256"),
            ("alg none", "\(none).\(parts[1]).", "RS256 or ES256"),
            ("alg none with the valid signature", "\(none).\(parts[1]).\(parts[2])", "RS256 or ES256"),
            ("no kid", try await noKid.sign(ProviderClaims()), "names no key"),
            ("another RSA key under the provider's kid", try await attackerRSA.token(), "signature or claims"),
            (
                "tampered payload", "\(parts[0]).\(base64URL(#"{"tid":"b","sub":"p-admin","exp":9999999999}"#)).\(parts[2])",
                "signature or claims"
            ),
            ("wrong issuer", try await rsa.token(with { $0.iss = "https://evil.example.test/" }), "wrong issuer"),
            ("no issuer", try await rsa.token(with { $0.iss = nil }), "wrong issuer"),
            ("wrong audience", try await rsa.token(with { $0.aud = ["api://another"] }), "audience"),
            ("no audience", try await rsa.token(with { $0.aud = nil }), "audience"),
            ("expired", try await rsa.token(with { $0.exp = now - 5 }), "expired or not yet valid"),
            ("not yet valid", try await rsa.token(with { $0.nbf = now + 600 }), "expired or not yet valid"),
            ("no expiry", try await rsa.token(with { $0.exp = nil }), "no expiry"),
            ("no tenant", try await rsa.token(with { $0.tid = nil }), "names no tenant"),
            ("not a JWT", "hello", "not a JWT"),
        ]
        for (name, token, reason) in hostile {
            do {
                let identity = try await verifier.verify(token)
                Issue.record("\(name): accepted as \(identity)")
            } catch {
                #expect(error.kind == .invalid, "\(name)")
                #expect(error.description.contains(reason), "\(name): \(error.description)")
            }
        }
        // And the genuine token still passes after all of that.
        #expect(try await verifier.verify(valid).principalId == "p-admin")
    }

    @Test func aKeySetThatCannotBeFetchedRefusesWith503AndRecovers() async throws {
        let rsa = try await ProviderKey.rsa("r1")
        let served = ServedJWKS([rsa])
        served.fail(true)
        let start = Date()
        let verifier = JWKSVerifier(settings: Self.settings(), initial: nil, now: start, logger: Self.logger, fetch: { try served.read() })
        let token = try await rsa.token()
        await #expect(throws: TokenError("the identity provider's keys could not be fetched; retry later", kind: .keysUnavailable)) {
            try await verifier.verify(token, now: start)
        }
        #expect(served.reads == 1)
        // After a failure it tries again after 5 s, then 10 s: not at every token.
        _ = try? await verifier.verify(token, now: start + 4)
        #expect(served.reads == 1)
        _ = try? await verifier.verify(token, now: start + 5)
        #expect(served.reads == 2)
        _ = try? await verifier.verify(token, now: start + 14)
        #expect(served.reads == 2)
        served.fail(false)
        #expect(try await verifier.verify(token, now: start + 15).principalId == "p-admin")
        #expect(served.reads == 3)

        // Over HTTP: 503 in both error shapes, with Retry-After; nothing published.
        served.fail(true)
        let down = JWKSVerifier(settings: Self.settings(), initial: nil, logger: Self.logger, fetch: { try served.read() })
        let publisher = RecordingPublisher()
        let harness = try await IngestHarness(publisher: publisher, verifier: down)
        try await harness.run { client in
            let api = try await client.send(.post, "/v1/devices/d-phone/notifications", token: token, body: deviceSend)
            #expect(api.status == 503)
            #expect(api.headers["Retry-After"] == "5")
            #expect(api.text.contains("identity_provider_unavailable"))
            let graph = try await client.send(
                .post,
                "/deviceManagement/managedDevices/d-phone/sendCustomNotificationToCompanyPortal",
                token: token,
                body: #"{"notificationTitle":"Hi","notificationBody":"There"}"#
            )
            #expect(graph.status == 503)
            #expect(graph.text.contains("ServiceUnavailable"))
        }
        #expect(publisher.published.isEmpty)
    }

    @Test func ingestVerifiesProviderTokensEndToEnd() async throws {
        let (rsa, ec) = (try await ProviderKey.rsa("r1"), try await ProviderKey.ec("e1"))
        let verifier = try await Self.verifier(ServedJWKS([rsa, ec]), start: Date())
        let publisher = RecordingPublisher()
        let harness = try await IngestHarness(publisher: publisher, verifier: verifier)
        let hs256 = try await harness.token()
        try await harness.run { client in
            for token in [try await rsa.token(), try await ec.token()] {
                #expect(try await client.send(.post, "/v1/devices/d-phone/notifications", token: token, body: deviceSend).status == 202)
            }
            // Herald's own HS256 tokens are not accepted in this mode.
            let refused = try await client.send(.post, "/v1/devices/d-phone/notifications", token: hs256, body: deviceSend)
            #expect(refused.status == 401)
        }
        #expect(publisher.published.count == 2)
    }

    @Test func aKeySetIsFetchedOverHTTPAndAnAddressThatDoesNotAnswerDoesNotStopIngest() async throws {
        let (old, new) = (try await ProviderKey.rsa("r1"), try await ProviderKey.ec("e2"))
        let served = ServedJWKS([old])
        let router = Router()
        router.get("jwks") { _, _ -> Response in
            let data = try served.read()
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        let app = Application(router: router, configuration: .init(address: .hostname("127.0.0.1", port: 0)))
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let verifier = try await makeTokenVerifier(.jwks(Self.settings(.url("http://127.0.0.1:\(port)/jwks"))), logger: Self.logger)
            #expect(try await verifier.verify(try await old.token()).principalId == "p-admin")
            served.serve([new])
            #expect(try await verifier.verify(try await new.token(), now: Date() + 61).principalId == "p-admin")
            #expect(served.reads == 2)
        }

        // Nothing listens on port 1: ingest still gets a verifier, which answers 503 for now.
        let unreachable = try await makeTokenVerifier(.jwks(Self.settings(.url("http://127.0.0.1:1/jwks"))), logger: Self.logger)
        await #expect(throws: TokenError("the identity provider's keys could not be fetched; retry later", kind: .keysUnavailable)) {
            try await unreachable.verify(try await old.token())
        }
    }

    @Test func aJWKSFileThatCannotBeUsedStopsIngestNamingTheKey() async throws {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("jwks-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let cases: [(String, String?)] = [
            ("missing.json", nil),
            ("html.json", "<html>login</html>"),
            ("empty-set.json", #"{"keys":[]}"#),
            ("hmac-only.json", #"{"keys":[{"kty":"oct","kid":"h","k":"c2VjcmV0"}]}"#),
        ]
        for (name, content) in cases {
            let path = directory.appendingPathComponent(name).path
            if let content { try content.write(toFile: path, atomically: true, encoding: .utf8) }
            do {
                _ = try await makeTokenVerifier(.jwks(Self.settings(.file(path))), logger: Self.logger)
                Issue.record("\(name) was accepted")
            } catch let error as ConfigurationError {
                #expect(error.key == "HERALD_JWKS_PATH", "\(name)")
                #expect(error.description.contains(path), "\(name)")
            }
        }
    }

    @Test func theJWKSModeIsReadFromTheEnvironment() throws {
        let base = ["HERALD_JWT_ISSUER": Self.issuer, "HERALD_JWT_AUDIENCE": Self.audience]
        func read(_ values: [String: String]) throws(ConfigurationError) -> TokenVerification {
            try TokenVerification.fromEnvironment(EnvironmentReader(values))
        }
        guard case .jwks(let settings) = try read(base.merging(["HERALD_JWKS_URL": "https://idp.example.test/keys"]) { $1 }) else {
            Issue.record("not JWKS mode")
            return
        }
        #expect(settings.source == .url("https://idp.example.test/keys"))
        #expect(settings.claims == ClaimRules(issuer: Self.issuer, audience: Self.audience, tenantClaim: "tid", principalClaim: "sub"))
        let claims = try read(
            base.merging(["HERALD_JWKS_PATH": "/k", "HERALD_JWT_TENANT_CLAIM": "org", "HERALD_JWT_PRINCIPAL_CLAIM": "azp"]) { $1 }
        )
        guard case .jwks(let named) = claims else {
            Issue.record("not JWKS mode")
            return
        }
        #expect(named.claims.tenantClaim == "org" && named.claims.principalClaim == "azp")

        let refused: [([String: String], String)] = [
            (["HERALD_JWKS_URL": "https://idp.example.test/keys", "HERALD_JWT_AUDIENCE": Self.audience], "HERALD_JWT_ISSUER"),
            (["HERALD_JWKS_PATH": "/k", "HERALD_JWT_ISSUER": Self.issuer], "HERALD_JWT_AUDIENCE"),
            (base.merging(["HERALD_JWKS_URL": "http://idp.example.test/keys"]) { $1 }, "HERALD_JWKS_URL"),
            (base.merging(["HERALD_JWKS_URL": "not a url"]) { $1 }, "HERALD_JWKS_URL"),
            (base.merging(["HERALD_JWKS_URL": "https://idp.example.test/keys", "HERALD_JWKS_PATH": "/k"]) { $1 }, "HERALD_JWKS_URL"),
        ]
        for (values, key) in refused {
            #expect(throws: ConfigurationError.self) { try read(values) }
            do { _ = try read(values) } catch { #expect(error.key == key, "\(values)") }
        }
        guard case .sharedSecret = try read(["HERALD_JWT_SECRET": String(repeating: "s", count: 32)]) else {
            Issue.record("not HS256 mode")
            return
        }
    }
}
