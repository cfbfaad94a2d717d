import Foundation
import HeraldCore
import Testing

@testable import GatewayApp

/// Reading an envelope without a JSON tree: the fields the gateway needs, the APNs payload as it
/// came, the FCM message with the ids put in, and every malformed envelope refused.
@Suite struct PushEnvelopeTests {
    static let builder = EnvelopeBuilder(
        notificationId: "n-1",
        tenantId: "t-1",
        title: "Caf\u{e9} \"quoted\" \\ line\nbreak",
        body: "Body \u{1F600}",
        createdAt: Date(timeIntervalSince1970: 1_800_000_000),
        ttlSeconds: 3600
    )

    static func object(_ bytes: some Sequence<UInt8>) throws -> [String: Any] {
        try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
    }

    @Test func anIOSEnvelopeGivesItsFieldsAndItsPayloadAsItCame() throws {
        let built = try #require(Self.builder.envelope(userId: "u-1", deviceId: "d-1", platform: .ios, pushToken: "ab12"))
        let envelope = try PushEnvelope(json: built.json)
        let tree = try Self.object(built.json)
        #expect(envelope.id == built.id)
        #expect(envelope.notificationId == "n-1")
        #expect(envelope.tenantId == "t-1")
        #expect(envelope.deviceId == "d-1")
        #expect(envelope.route == .ios)
        #expect(envelope.pushToken == "ab12")
        #expect(envelope.expiresAt == Date(timeIntervalSince1970: 1_800_003_600))
        #expect(envelope.apnsHeaders == ["apns-push-type": "alert", "apns-priority": "10", "apns-expiration": "1800003600"])
        let payload = try Self.object(envelope.apnsPayload)
        let alert = try #require((payload["aps"] as? [String: Any])?["alert"] as? [String: Any])
        #expect(alert["title"] as? String == "Caf\u{e9} \"quoted\" \\ line\nbreak")
        #expect(alert["body"] as? String == "Body \u{1F600}")
        #expect(NSDictionary(dictionary: payload).isEqual(to: (tree["apns"] as? [String: Any])?["payload"] as? [String: Any] ?? [:]))
    }

    @Test func anAndroidEnvelopeGetsItsIdsAndTagPutIntoTheMessage() throws {
        let built = try #require(Self.builder.envelope(userId: "u-1", deviceId: "d-2", platform: .android, pushToken: "fcm-token"))
        let envelope = try PushEnvelope(json: built.json)
        let request = try Self.object(envelope.fcmMessage)
        let message = try #require(request["message"] as? [String: Any])
        #expect(message["token"] as? String == "fcm-token")
        #expect(message["data"] as? [String: String] == ["envelopeId": built.id, "notificationId": "n-1"])
        let android = try #require(message["android"] as? [String: Any])
        #expect(android["priority"] as? String == "HIGH")
        #expect(android["ttl"] as? String == "3600s")
        #expect((android["notification"] as? [String: Any])?["tag"] as? String == built.id)
        let notification = try #require(message["notification"] as? [String: Any])
        #expect(notification["title"] as? String == "Caf\u{e9} \"quoted\" \\ line\nbreak")
    }

    @Test func anFCMMessageKeepsItsOwnDataAndTagAndEscapesAreRead() throws {
        let json = #"""
            { "envelopeId" : "e-1", "notificationId":"n-\"1\"", "tenantId":"t\u00e9", "deviceId":"d-1",
              "platform":"android", "pushToken":"tok", "expiresAt":"2027-01-15T08:00:00Z",
              "fcm":{"message":{"token":"tok","data":{"kind":"x","envelopeId":"old"},
                "android":{"ttl":"60s","notification":{"tag":"mine","color":"#ff0000"}},"list":[1,{"a":"]"}]}} }
            """#
        let envelope = try PushEnvelope(json: Array(json.utf8))
        #expect(envelope.notificationId == "n-\"1\"")
        #expect(envelope.tenantId == "t\u{e9}")
        let message = try #require(try Self.object(envelope.fcmMessage)["message"] as? [String: Any])
        #expect(message["data"] as? [String: String] == ["kind": "x", "envelopeId": "e-1", "notificationId": "n-\"1\""])
        let android = try #require(message["android"] as? [String: Any])
        #expect(android["notification"] as? [String: String] == ["tag": "mine", "color": "#ff0000"], "an envelope's own tag is kept")
        #expect(android["ttl"] as? String == "60s")
        #expect((message["list"] as? [Any])?.count == 2)
    }

    @Test(arguments: [
        "", "[]", "{", #"{"envelopeId":"e"} x"#, #"{"envelopeId":"e",}"#, #"{"envelopeId" "e"}"#,
        #"{"envelopeId":"e","notificationId":"n","tenantId":"t","deviceId":"d","platform":"ios","pushToken":"p","expiresAt":"2027-01-15T08:00:00Z"}"#,
        #"{"envelopeId":"e","notificationId":"n","tenantId":"t","deviceId":"d","platform":"ios","pushToken":"p","expiresAt":"2027-01-15T08:00:00Z","apns":{"payload":[1]}}"#,
        #"{"envelopeId":"e","notificationId":"n","tenantId":"t","deviceId":"d","platform":"ios","pushToken":"p","expiresAt":"2027-01-15T08:00:00Z","apns":{"payload":{"aps":{"a":[}}}}"#,
        #"{"envelopeId":"e","notificationId":"n","tenantId":"t","deviceId":"d","platform":"android","pushToken":"p","expiresAt":"2027-01-15T08:00:00Z","fcm":{"message":"m"}}"#,
        #"{"envelopeId":"e","notificationId":"n","tenantId":"t","deviceId":"d","platform":"windows","pushToken":"p","expiresAt":"2027-01-15T08:00:00Z"}"#,
        #"{"envelopeId":"e","notificationId":"n","tenantId":"t","deviceId":"d","platform":"ios","pushToken":"","expiresAt":"2027-01-15T08:00:00Z","apns":{"payload":{}}}"#,
        #"{"envelopeId":"e","notificationId":"n","tenantId":"t","deviceId":"d","platform":"ios","pushToken":"p","expiresAt":"soon","apns":{"payload":{}}}"#,
        "{\"envelopeId\":\"e\u{1}\"}",
    ])
    func aMalformedEnvelopeIsRefused(_ json: String) {
        #expect(throws: PushEnvelope.Malformed.self) { try PushEnvelope(json: Array(json.utf8)) }
    }
}
