import AsyncHTTPClient
import Crypto
import Foundation
import JWTKit
import Logging
import NIOCore
import NIOHTTP1
import NIOSSL
import PushProtocol
import PushSandboxApp
import TestSupport
import Testing

/// The APNs/FCM stand-in over real TLS and HTTP/2 on loopback, checked with AsyncHTTPClient (what
/// the gateway uses): it accepts what APNs and FCM accept, refuses what they refuse with their
/// statuses and reasons, and does what a test scripts.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct PushSandboxTests {
    static let deviceToken = String(repeating: "ab", count: 32)
    static let fcmToken = "fcm-" + String(repeating: "x", count: 150)

    @Test func anAPNsPushWithAValidProviderTokenIsAcceptedAndRecordedAsHTTP2() async throws {
        try await withSandbox { sandbox in
            let id = UUID().uuidString.lowercased()
            let response = try await sandbox.apns(token: Self.deviceToken, jwt: try await sandbox.providerToken(), apnsId: id)
            #expect(response.status.code == 200)
            #expect(response.headers["apns-id"] == [id])
            let pushes = try await sandbox.control.pushes()
            #expect(pushes.pushes.count == 1)
            #expect(pushes.pushes.first?.httpVersion == "h2")
            #expect(pushes.pushes.first?.id == id)
            #expect(pushes.pushes.first?.headers["apns-push-type"] == "alert")
            #expect(pushes.stats.providerTokens == 1)
        }
    }

    @Test func apnsRefusesWhatAPNsRefuses() async throws {
        try await withSandbox { sandbox in
            let good = try await sandbox.providerToken()
            let otherKey = ES256PrivateKey()
            let foreign = try await sandbox.providerToken(key: otherKey)
            let old = try await sandbox.providerToken(issuedAt: Date().addingTimeInterval(-7200))
            let otherTeam = try await sandbox.providerToken(team: "OTHERTEAM1")
            let cases: [(String, (status: UInt, body: [String: Any]))] = [
                ("MissingProviderToken", try await sandbox.apns(token: Self.deviceToken, jwt: nil).outcome()),
                ("InvalidProviderToken", try await sandbox.apns(token: Self.deviceToken, jwt: foreign).outcome()),
                ("InvalidProviderToken", try await sandbox.apns(token: Self.deviceToken, jwt: otherTeam).outcome()),
                ("ExpiredProviderToken", try await sandbox.apns(token: Self.deviceToken, jwt: old).outcome()),
                ("TopicDisallowed", try await sandbox.apns(token: Self.deviceToken, jwt: good, topic: "com.example.other").outcome()),
                ("BadDeviceToken", try await sandbox.apns(token: "not-hex", jwt: good).outcome()),
                ("BadDeviceToken", try await sandbox.apns(token: "abcd", jwt: good).outcome()),
                ("BadMessageId", try await sandbox.apns(token: Self.deviceToken, jwt: good, apnsId: "12345").outcome()),
                ("BadPriority", try await sandbox.apns(token: Self.deviceToken, jwt: good, priority: "7").outcome()),
                ("InvalidPushType", try await sandbox.apns(token: Self.deviceToken, jwt: good, pushType: "shout").outcome()),
                (
                    "PayloadTooLarge",
                    try await sandbox.apns(
                        token: Self.deviceToken,
                        jwt: good,
                        body: #"{"aps":{"alert":""# + String(repeating: "x", count: 4100) + #""}}"#
                    ).outcome()
                ),
                ("PayloadEmpty", try await sandbox.apns(token: Self.deviceToken, jwt: good, body: "").outcome()),
                ("HTTP2Required", try await sandbox.apns(token: Self.deviceToken, jwt: good, http1: true).outcome()),
            ]
            for (reason, outcome) in cases {
                #expect(outcome.body["reason"] as? String == reason, "expected \(reason)")
                #expect(outcome.status >= 400)
            }
            #expect(try await sandbox.control.pushes().pushes.isEmpty, "nothing refused is recorded")
        }
    }

    @Test func apnsDoesWhatTheTestScripts() async throws {
        try await withSandbox { sandbox in
            let jwt = try await sandbox.providerToken()
            let gone = String(repeating: "cd", count: 32)
            try await sandbox.control.script(#"{"gone":["\#(gone)"],"throttle":{"count":2,"retryAfterSeconds":7,"platform":"ios"}}"#)
            for _ in 0..<2 {
                let throttled = try await sandbox.apns(token: Self.deviceToken, jwt: jwt)
                #expect(throttled.status.code == 429)
                #expect(throttled.headers["retry-after"] == ["7"])
            }
            let unregistered = try await sandbox.apns(token: gone, jwt: jwt)
            #expect(unregistered.status.code == 410)
            let body = try await unregistered.json()
            #expect(body["reason"] as? String == "Unregistered")
            #expect(body["timestamp"] is Int)
            #expect(try await sandbox.apns(token: Self.deviceToken, jwt: jwt).status.code == 200)

            try await sandbox.control.script(#"{"unavailableSeconds":30}"#)
            #expect(try await sandbox.apns(token: Self.deviceToken, jwt: jwt).status.code == 503)
            try await sandbox.control.reset()

            // Credentials expired now: the token signed before is refused, one signed after is not.
            try await Task.sleep(for: .seconds(1))
            try await sandbox.control.script(#"{"expireCredentials":true}"#)
            #expect(try await sandbox.apns(token: Self.deviceToken, jwt: jwt).json()["reason"] as? String == "ExpiredProviderToken")
            try await Task.sleep(for: .seconds(1))
            #expect(try await sandbox.apns(token: Self.deviceToken, jwt: try await sandbox.providerToken()).status.code == 200)
            try await sandbox.control.script(#"{"revokeKeys":true}"#)
            #expect(try await sandbox.apns(token: Self.deviceToken, jwt: try await sandbox.providerToken()).status.code == 403)
        }
    }

    @Test func fcmGrantsAnAccessTokenForTheServiceAccountAndAcceptsASend() async throws {
        try await withSandbox { sandbox in
            let access = try #require(try await sandbox.accessToken())
            let sent = try await sandbox.fcm(token: Self.fcmToken, access: access, envelopeId: "e-1")
            #expect(sent.status.code == 200)
            #expect((try await sent.json()["name"] as? String)?.hasPrefix("projects/herald-sandbox/messages/") == true)
            #expect(try await sandbox.fcm(token: Self.fcmToken, access: access, envelopeId: "e-1").status.code == 200)
            let pushes = try await sandbox.control.pushes()
            #expect(pushes.pushes.map(\.id) == ["e-1", "e-1"])
            #expect(pushes.pushes.allSatisfy { $0.httpVersion == "h2" })
            #expect(pushes.stats.duplicates == 1, "the same envelope twice is counted")
        }
    }

    @Test func fcmRefusesWhatGoogleRefuses() async throws {
        try await withSandbox { sandbox in
            #expect(try await sandbox.accessToken(audience: "https://oauth2.googleapis.com/token") == nil, "another audience")
            #expect(try await sandbox.accessToken(scope: "https://www.googleapis.com/auth/cloud-platform") == nil, "another scope")
            #expect(
                try await sandbox.accessToken(key: try JWTKit.Insecure.RSA.PrivateKey(backing: .init(keySize: .bits2048))) == nil,
                "another key"
            )
            let access = try #require(try await sandbox.accessToken())
            #expect(try await sandbox.fcm(token: Self.fcmToken, access: "ya29.made-up").status.code == 401)
            let invalid = try await sandbox.fcm(token: "short", access: access)
            #expect(invalid.status.code == 400)
            #expect(try await invalid.errorCode() == "INVALID_ARGUMENT")
            #expect(try await sandbox.fcm(token: Self.fcmToken, access: access, ttl: "3000000s").status.code == 400)
            #expect(
                try await sandbox.fcm(token: Self.fcmToken, access: access, title: String(repeating: "x", count: 5000)).status.code == 400
            )

            let gone = "gone-" + String(repeating: "y", count: 150)
            try await sandbox.control.script(#"{"gone":["\#(gone)"],"throttle":{"count":1,"retryAfterSeconds":3,"platform":"android"}}"#)
            let quota = try await sandbox.fcm(token: Self.fcmToken, access: access)
            #expect(quota.status.code == 429)
            #expect(quota.headers["retry-after"] == ["3"])
            #expect(try await quota.errorCode() == "QUOTA_EXCEEDED")
            let unregistered = try await sandbox.fcm(token: gone, access: access)
            #expect(unregistered.status.code == 404)
            #expect(try await unregistered.errorCode() == "UNREGISTERED")

            try await sandbox.control.script(#"{"revokeKeys":true}"#)
            #expect(try await sandbox.fcm(token: Self.fcmToken, access: access).status.code == 401)
            #expect(try await sandbox.accessToken() == nil, "a revoked key gets no new token")
            #expect(try await sandbox.control.pushes().pushes.isEmpty)
        }
    }

    @Test func aRestartKeepsTheKeysAndTheCertificate() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let first = try SandboxCredentials.loadOrCreate(in: folder)
        let second = try SandboxCredentials.loadOrCreate(in: folder)
        #expect(first.apnsKeyId == second.apnsKeyId)
        #expect(first.fcmKeyId == second.fcmKeyId)
        #expect(first.serverCertificatePEM == second.serverCertificatePEM)
        let other = try SandboxCredentials.loadOrCreate(in: folder.appendingPathComponent("other"))
        #expect(other.apnsKeyId != first.apnsKeyId)
    }
}

// MARK: A client of the stand-in

/// A started stand-in and an HTTP client that trusts its CA.
struct SandboxClient {
    let url: String
    let credentials: SandboxCredentials
    let client: HTTPClient
    let http1: HTTPClient
    let control: SandboxControl

    func providerToken(key: ES256PrivateKey? = nil, team: String? = nil, issuedAt: Date = Date()) async throws -> String {
        let keys = JWTKeyCollection()
        await keys.add(ecdsa: try key ?? ES256PrivateKey(backing: credentials.apnsKey), kid: JWKIdentifier(string: credentials.apnsKeyId))
        return try await keys.sign(
            APNsProviderClaims(teamId: team ?? credentials.apnsTeamId, issuedAt: issuedAt),
            kid: JWKIdentifier(string: credentials.apnsKeyId)
        )
    }

    func apns(
        token: String,
        jwt: String?,
        apnsId: String? = nil,
        topic: String? = nil,
        priority: String = "10",
        pushType: String = "alert",
        body: String = #"{"aps":{"alert":{"title":"t","body":"b"}}}"#,
        http1: Bool = false
    ) async throws -> HTTPClientResponse {
        var request = HTTPClientRequest(url: "\(url)/3/device/\(token)")
        request.method = .POST
        if let jwt { request.headers.add(name: "authorization", value: "bearer \(jwt)") }
        request.headers.add(name: "apns-topic", value: topic ?? credentials.apnsTopic)
        request.headers.add(name: "apns-push-type", value: pushType)
        request.headers.add(name: "apns-priority", value: priority)
        request.headers.add(name: "apns-expiration", value: String(Int(Date().timeIntervalSince1970) + 3600))
        if let apnsId { request.headers.add(name: "apns-id", value: apnsId) }
        request.body = .bytes(ByteBuffer(string: body))
        return try await (http1 ? self.http1 : client).execute(request, timeout: .seconds(10))
    }

    /// An access token for the service account, or nil when the token endpoint refused the grant.
    func accessToken(audience: String? = nil, scope: String? = nil, key: JWTKit.Insecure.RSA.PrivateKey? = nil) async throws -> String? {
        let keys = JWTKeyCollection()
        await keys.add(
            rsa: try key ?? JWTKit.Insecure.RSA.PrivateKey(backing: credentials.fcmKey),
            digestAlgorithm: .sha256,
            kid: JWKIdentifier(string: credentials.fcmKeyId)
        )
        let assertion = try await keys.sign(
            OAuthGrantClaims(
                clientEmail: credentials.fcmClientEmail,
                scope: scope ?? PushLimits.fcmScope,
                tokenURI: audience ?? "\(url)/token",
                issuedAt: Date()
            ),
            kid: JWKIdentifier(string: credentials.fcmKeyId)
        )
        var request = HTTPClientRequest(url: "\(url)/token")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=\(assertion)"))
        let response = try await client.execute(request, timeout: .seconds(10))
        return try await response.json()["access_token"] as? String
    }

    func fcm(
        token: String,
        access: String,
        envelopeId: String? = nil,
        ttl: String = "3600s",
        title: String = "t"
    ) async throws -> HTTPClientResponse {
        var message: [String: Any] = [
            "token": token, "notification": ["title": title, "body": "b"], "android": ["priority": "HIGH", "ttl": ttl],
        ]
        if let envelopeId { message["data"] = ["envelopeId": envelopeId] }
        var request = HTTPClientRequest(url: "\(url)/v1/projects/\(credentials.fcmProjectId)/messages:send")
        request.method = .POST
        request.headers.add(name: "authorization", value: "Bearer \(access)")
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONSerialization.data(withJSONObject: ["message": message])))
        return try await client.execute(request, timeout: .seconds(10))
    }
}

/// Starts a stand-in on a free port with a fresh folder, runs `body` against it, stops it.
func withSandbox(_ body: (SandboxClient) async throws -> Void) async throws {
    let folder = FileManager.default.temporaryDirectory.appendingPathComponent("sandbox-\(UUID().uuidString)")
    defer { try? FileManager.default.removeItem(at: folder) }
    var options = PushSandbox.Options(directory: folder)
    options.port = 0
    let sandbox = try PushSandbox(options: options, logger: .init(label: "sandbox", factory: { _ in SwiftLogNoOpLogHandler() }))
    let (ready, readyContinuation) = AsyncStream.makeStream(of: String.self)
    let server = Task { try await sandbox.run { readyContinuation.yield($0) } }
    defer { server.cancel() }
    var urls = ready.makeAsyncIterator()
    let url = try #require(await urls.next())
    var tls = TLSConfiguration.makeClientConfiguration()
    tls.trustRoots = .file(folder.appendingPathComponent("ca.pem").path)
    let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
    var http1Configuration = HTTPClient.Configuration(tlsConfiguration: tls)
    http1Configuration.httpVersion = .http1Only
    let http1 = HTTPClient(eventLoopGroupProvider: .singleton, configuration: http1Configuration)
    let control = SandboxControl(url: url, caFile: folder.appendingPathComponent("ca.pem").path)
    let credentials = try SandboxCredentials.loadOrCreate(in: folder)
    do {
        try await body(SandboxClient(url: url, credentials: credentials, client: client, http1: http1, control: control))
    } catch {
        try? await client.shutdown()
        try? await http1.shutdown()
        await control.shutdown()
        throw error
    }
    try await client.shutdown()
    try await http1.shutdown()
    await control.shutdown()
}

extension HTTPClientResponse {
    func outcome() async throws -> (status: UInt, body: [String: Any]) { (status.code, try await json()) }

    func json() async throws -> [String: Any] {
        let body = try await body.collect(upTo: 1 << 20)
        return (try? JSONSerialization.jsonObject(with: Data(buffer: body)) as? [String: Any]) ?? [:]
    }

    /// FCM's `details[].errorCode`.
    func errorCode() async throws -> String? {
        let error = try await json()["error"] as? [String: Any]
        return (error?["details"] as? [[String: Any]])?.first?["errorCode"] as? String
    }
}
