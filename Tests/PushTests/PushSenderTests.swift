import Foundation
import HeraldCore
import HeraldRuntime
import PushSandboxApp
import Testing

@testable import GatewayApp

/// The gateway's APNs and FCM clients against the stand-in over TLS and HTTP/2: what they send,
/// how they share credentials, and what each answer becomes.
@Suite(.serialized, .timeLimit(.minutes(3)))
struct PushSenderTests {
    static let iosToken = String(repeating: "ab", count: 32)
    static let androidToken = "fcm-" + String(repeating: "x", count: 150)

    static func envelope(_ platform: Platform, token: String, device: String = "d-1") throws -> PushEnvelope {
        let builder = EnvelopeBuilder(
            notificationId: "n-1",
            tenantId: "t-1",
            title: "Hello",
            body: "World",
            createdAt: Date(),
            ttlSeconds: 3600
        )
        let envelope = try #require(builder.envelope(userId: "u-1", deviceId: device, platform: platform, pushToken: token))
        return try PushEnvelope(json: envelope.json)
    }

    @Test func anEnvelopeOfEachPlatformIsSentTheWayItsServiceWantsIt() async throws {
        try await withSender { sandbox, sender in
            let ios = try Self.envelope(.ios, token: Self.iosToken)
            let android = try Self.envelope(.android, token: Self.androidToken)
            #expect(await sender.send(ios) == .sent)
            #expect(await sender.send(android) == .sent)
            let pushes = try await sandbox.control.pushes().pushes
            let apns = try #require(pushes.first { $0.platform == "ios" })
            #expect(apns.id == ios.id, "apns-id is the envelope id")
            #expect(apns.token == Self.iosToken)
            #expect(apns.headers["apns-topic"] == sandbox.credentials.apnsTopic)
            #expect(apns.headers["apns-push-type"] == "alert")
            #expect(apns.headers["apns-priority"] == "10")
            #expect(apns.headers["apns-expiration"] == String(Int(ios.expiresAt.timeIntervalSince1970)))
            #expect(apns.headers["apns-collapse-id"] == ios.id, "a copy replaces the first on the device")
            #expect(apns.body.contains(#""title":"Hello""#))
            let fcm = try #require(pushes.first { $0.platform == "android" })
            #expect(fcm.id == android.id, "data.envelopeId is the envelope id")
            #expect(fcm.token == Self.androidToken)
            #expect(fcm.body.contains(#""ttl":"3600s""#))
            #expect(fcm.body.contains(#""tag":"\#(android.id)""#), "a copy replaces the first on the device")
            #expect(pushes.allSatisfy { $0.httpVersion == "h2" })
        }
    }

    @Test func credentialsAreMadeOnceAndSharedByConcurrentPushes() async throws {
        try await withSender { sandbox, sender in
            let envelopes = try (0..<20).flatMap { i in
                [
                    try Self.envelope(.ios, token: Self.iosToken, device: "d-\(i)"),
                    try Self.envelope(.android, token: Self.androidToken, device: "d-\(i)"),
                ]
            }
            let outcomes = await withTaskGroup(of: PushOutcome.self) { group in
                for envelope in envelopes { group.addTask { await sender.send(envelope) } }
                return await group.reduce(into: []) { $0.append($1) }
            }
            #expect(outcomes.allSatisfy { $0 == .sent })
            let stats = try await sandbox.control.pushes().stats
            #expect(stats.accepted == ["ios": 20, "android": 20])
            #expect(stats.providerTokens == 1, "one provider token for every push")
            #expect(stats.accessTokensIssued == 1, "one access token for every push")
            #expect(await sender.apnsTokens?.made == 1)
            #expect(await sender.fcmTokens?.made == 1)
        }
    }

    @Test func concurrentCallersShareOneProviderToken() async throws {
        try await withSandbox { sandbox in
            let pem = try String(contentsOf: sandbox.credentials.apnsKeyPath, encoding: .utf8)
            let apns = try await SharedCredential.apnsProviderToken(
                keyPEM: pem,
                keyId: sandbox.credentials.apnsKeyId,
                teamId: sandbox.credentials.apnsTeamId
            )
            let tokens = try await withThrowingTaskGroup(of: String.self) { group in
                for _ in 0..<50 { group.addTask { try await apns.value() } }
                return try await group.reduce(into: Set<String>()) { $0.insert($1) }
            }
            #expect(tokens.count == 1)
            #expect(await apns.made == 1)
        }
    }

    @Test func eachAnswerBecomesItsOutcome() async throws {
        try await withSender { sandbox, sender in
            let goneIOS = String(repeating: "cd", count: 32)
            let goneAndroid = "gone-" + String(repeating: "y", count: 150)
            try await sandbox.control.script(#"{"gone":["\#(goneIOS)","\#(goneAndroid)"]}"#)
            #expect(await sender.send(try Self.envelope(.ios, token: goneIOS)) == .tokenGone(reason: "Unregistered"))
            #expect(await sender.send(try Self.envelope(.android, token: goneAndroid)) == .tokenGone(reason: "UNREGISTERED"))
            #expect(await sender.send(try Self.envelope(.ios, token: "0123")) == .tokenGone(reason: "BadDeviceToken"))
            #expect(await sender.send(try Self.envelope(.android, token: "short")) == .tokenGone(reason: "INVALID_ARGUMENT"))

            try await sandbox.control.script(#"{"throttle":{"count":2,"retryAfterSeconds":7}}"#)
            #expect(
                await sender.send(try Self.envelope(.ios, token: Self.iosToken)) == .retry(reason: "TooManyRequests", after: .seconds(7))
            )
            #expect(
                await sender.send(try Self.envelope(.android, token: Self.androidToken))
                    == .retry(reason: "QUOTA_EXCEEDED", after: .seconds(7))
            )
            try await sandbox.control.script(#"{"unavailableSeconds":30}"#)
            #expect(await sender.send(try Self.envelope(.ios, token: Self.iosToken)) == .retry(reason: "ServiceUnavailable", after: nil))
            #expect(await sender.send(try Self.envelope(.android, token: Self.androidToken)) == .retry(reason: "UNAVAILABLE", after: nil))
            try await sandbox.control.reset()

            // Expired credentials are renewed once and the push goes through.
            #expect(await sender.send(try Self.envelope(.ios, token: Self.iosToken)) == .sent)
            #expect(await sender.send(try Self.envelope(.android, token: Self.androidToken)) == .sent)
            try await Task.sleep(for: .seconds(1))
            try await sandbox.control.script(#"{"expireCredentials":true}"#)
            try await Task.sleep(for: .seconds(1))
            #expect(await sender.send(try Self.envelope(.ios, token: Self.iosToken)) == .sent)
            #expect(await sender.send(try Self.envelope(.android, token: Self.androidToken)) == .sent)
            let stats = try await sandbox.control.pushes().stats
            #expect(stats.providerTokens == 2)
            #expect(stats.accessTokensIssued == 2)

            // A revoked key: renewing does not help, and the outcome says so.
            try await sandbox.control.script(#"{"revokeKeys":true}"#)
            #expect(await sender.send(try Self.envelope(.ios, token: Self.iosToken)) == .credentialsRefused(reason: "ExpiredProviderToken"))
            guard case .credentialsRefused = await sender.send(try Self.envelope(.android, token: Self.androidToken)) else {
                Issue.record("a revoked service account is refused")
                return
            }
        }
    }

    @Test func aServiceThatDoesNotAnswerIsTriedAgainLater() async throws {
        try await withSender { sandbox, _ in
            var settings = sandbox.settings
            settings.apns?.baseURL = "https://127.0.0.1:1"
            let sender = try await PushSender(settings: settings)
            #expect(await sender.send(try Self.envelope(.ios, token: Self.iosToken)) == .retry(reason: "Unreachable", after: nil))
            try await sender.shutdown()
        }
    }

    @Test func answersAreReadAsTheServicesDocumentThem() {
        #expect(APNsAnswer.outcome(status: 200, reason: nil, retryAfter: nil) == .sent)
        #expect(APNsAnswer.outcome(status: 410, reason: "Unregistered", retryAfter: nil) == .tokenGone(reason: "Unregistered"))
        #expect(
            APNsAnswer.outcome(status: 400, reason: "DeviceTokenNotForTopic", retryAfter: nil) == .failed(reason: "DeviceTokenNotForTopic")
        )
        #expect(APNsAnswer.outcome(status: 400, reason: "PayloadEmpty", retryAfter: nil) == .failed(reason: "PayloadEmpty"))
        #expect(APNsAnswer.outcome(status: 413, reason: "PayloadTooLarge", retryAfter: nil) == .failed(reason: "PayloadTooLarge"))
        #expect(
            APNsAnswer.outcome(status: 403, reason: "InvalidProviderToken", retryAfter: nil)
                == .credentialsRefused(reason: "InvalidProviderToken")
        )
        #expect(APNsAnswer.outcome(status: 500, reason: nil, retryAfter: "2") == .retry(reason: "HTTP500", after: .seconds(2)))
        #expect(
            FCMAnswer.outcome(
                status: 403,
                body: ["error": ["status": "PERMISSION_DENIED", "details": [["errorCode": "SENDER_ID_MISMATCH"]]]],
                retryAfter: nil
            ) == .failed(reason: "SENDER_ID_MISMATCH")
        )
        #expect(
            FCMAnswer.outcome(
                status: 400,
                body: ["error": ["status": "INVALID_ARGUMENT", "details": [["errorCode": "INVALID_ARGUMENT"]]]],
                retryAfter: nil
            ) == .failed(reason: "INVALID_ARGUMENT"),
            "a bad message, not a bad token, clears nothing"
        )
        #expect(FCMAnswer.outcome(status: 503, body: [:], retryAfter: nil) == .retry(reason: "HTTP503", after: nil))
        #expect(RetryAfter.parse("Wed, 21 Oct 2015 07:28:10 GMT", now: Date(timeIntervalSince1970: 1_445_412_480)) == .seconds(10))
        #expect(RetryAfter.parse("soon") == nil)
    }

    @Test func theGatewayNamesTheCredentialsItLacks() throws {
        #expect(throws: ConfigurationError.self) { try PushSettings(environment: EnvironmentReader([:])) }
        do {
            _ = try PushSettings(environment: EnvironmentReader(["HERALD_APNS_KEY_ID": "K", "HERALD_APNS_TEAM_ID": "T"]))
            Issue.record("half of APNs' keys is refused")
        } catch {
            #expect(error.key == "HERALD_APNS_KEY_PATH")
            #expect(error.description.contains("HERALD_APNS_TOPIC"))
        }
        do {
            _ = try PushSettings(environment: EnvironmentReader(["HERALD_FCM_CREDENTIALS_PATH": "/nonexistent/account.json"]))
            Issue.record("a missing file is refused")
        } catch {
            #expect(error.key == "HERALD_FCM_CREDENTIALS_PATH")
        }
    }
}

extension SandboxClient {
    /// The gateway's settings for this stand-in, read from its gateway.env as make run and the
    /// chain tests hand it to the gateway.
    var settings: PushSettings {
        let values = (try? SandboxCredentials.gatewayEnvironment(in: credentials.directory)) ?? [:]
        return (try? PushSettings(environment: EnvironmentReader(values))) ?? PushSettings(apns: nil, fcm: nil)
    }
}

/// A stand-in and a PushSender configured from its gateway.env.
func withSender(_ body: (SandboxClient, PushSender) async throws -> Void) async throws {
    try await withSandbox { sandbox in
        let sender = try await PushSender(settings: sandbox.settings)
        do {
            try await body(sandbox, sender)
        } catch {
            try? await sender.shutdown()
            throw error
        }
        try await sender.shutdown()
    }
}
