import Foundation
import HeraldCore
import Testing

@Suite struct EnvelopeTests {
    let created = Date(timeIntervalSince1970: 1_800_000_000)

    func builder(title: String = "Heads up", body: String = "Line \"one\"\nline two\\") -> EnvelopeBuilder {
        EnvelopeBuilder(notificationId: "n-1", tenantId: "contoso", title: title, body: body, createdAt: created, ttlSeconds: 600)
    }

    func object(_ envelope: Envelope) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(envelope.json)) as? [String: Any])
    }

    @Test func iosEnvelopeHasTheAPNsBlockOnly() throws {
        let envelope = try #require(builder().envelope(userId: "u-ada", deviceId: "d-1", platform: .ipados, pushToken: "tok"))
        #expect(envelope.route == .ios)
        let json = try object(envelope)
        #expect(json["envelopeId"] as? String == envelope.id)
        #expect(json["notificationId"] as? String == "n-1")
        #expect(json["tenantId"] as? String == "contoso")
        #expect(json["userId"] as? String == "u-ada")
        #expect(json["deviceId"] as? String == "d-1")
        #expect(json["platform"] as? String == "ios")
        #expect(json["pushToken"] as? String == "tok")
        #expect(json["createdAt"] as? String == "2027-01-15T08:00:00.000Z")
        #expect(json["expiresAt"] as? String == "2027-01-15T08:10:00.000Z")
        #expect(json["fcm"] == nil)
        let apns = try #require(json["apns"] as? [String: Any])
        let headers = try #require(apns["headers"] as? [String: String])
        #expect(headers == ["apns-push-type": "alert", "apns-priority": "10", "apns-expiration": "1800000600"])
        let aps = try #require((apns["payload"] as? [String: Any])?["aps"] as? [String: Any])
        #expect(aps["sound"] as? String == "default")
        #expect(aps["alert"] as? [String: String] == ["title": "Heads up", "body": "Line \"one\"\nline two\\"])
    }

    @Test func androidEnvelopeHasTheFCMBlockOnly() throws {
        let envelope = try #require(builder().envelope(userId: "u", deviceId: "d-2", platform: .android, pushToken: "fcm"))
        #expect(envelope.route == .android)
        let json = try object(envelope)
        #expect(json["apns"] == nil)
        let message = try #require((json["fcm"] as? [String: Any])?["message"] as? [String: Any])
        #expect(message["token"] as? String == "fcm")
        #expect(message["notification"] as? [String: String] == ["title": "Heads up", "body": "Line \"one\"\nline two\\"])
        #expect(message["android"] as? [String: String] == ["priority": "HIGH", "ttl": "600s"])
    }

    @Test func noEnvelopeForDesktopPlatforms() {
        #expect(builder().envelope(userId: "u", deviceId: "d", platform: .macos, pushToken: "t") == nil)
        #expect(builder().envelope(userId: "u", deviceId: "d", platform: .windows, pushToken: "t") == nil)
    }

    @Test func envelopeIdIsDeterministicAndDistinct() {
        let a = EnvelopeBuilder.envelopeId(notificationId: "n-1", deviceId: "d-1")
        #expect(a == EnvelopeBuilder.envelopeId(notificationId: "n-1", deviceId: "d-1"))
        #expect(a != EnvelopeBuilder.envelopeId(notificationId: "n-1", deviceId: "d-2"))
        #expect(a != EnvelopeBuilder.envelopeId(notificationId: "n-2", deviceId: "d-1"))
        #expect(UUID(uuidString: a) != nil)
    }

    /// The envelope's bytes, as consumers and the gateway have always read them: written once per
    /// notification and per device from parts, they must still come out exactly so.
    @Test func envelopesAreExactlyTheseBytes() throws {
        let head =
            #"{"envelopeId":"e0383bdf-5406-82d9-97e5-f61abeac828b","notificationId":"n-1","tenantId":"contoso","userId":"u-ada","deviceId":"d-1","platform":"#
        let times = #","pushToken":"tok","createdAt":"2027-01-15T08:00:00.000Z","expiresAt":"2027-01-15T08:10:00.000Z","#
        let alert = #"{"title":"Heads up","body":"Line \"one\"\nline two\\"}"#
        let ios = try #require(builder().envelope(userId: "u-ada", deviceId: "d-1", platform: .ios, pushToken: "tok"))
        #expect(
            String(decoding: ios.json, as: UTF8.self) == head + #""ios""# + times
                + #""apns":{"headers":{"apns-push-type":"alert","apns-priority":"10","apns-expiration":"1800000600"},"payload":{"aps":{"alert":"#
                + alert + #","sound":"default"}}}}"#
        )
        let android = try #require(builder().envelope(userId: "u-ada", deviceId: "d-1", platform: .android, pushToken: "tok"))
        #expect(
            String(decoding: android.json, as: UTF8.self) == head + #""android""# + times
                + #""fcm":{"message":{"token":"tok","notification":"#
                + alert + #","android":{"priority":"HIGH","ttl":"600s"}}}}"#
        )
    }

    /// SHA-256 of `herald-envelope`, NUL, notification id, NUL, device id; its first 16 bytes with
    /// the version (8) and variant bits. Fixed, so consumers that drop duplicates by id keep doing
    /// so across versions of Herald.
    @Test func envelopeIdIsTheNameBasedUUIDOfThePair() throws {
        #expect(EnvelopeBuilder.envelopeId(notificationId: "n-1", deviceId: "d-1") == "e0383bdf-5406-82d9-97e5-f61abeac828b")
        let envelope = try #require(builder().envelope(userId: "u", deviceId: "d-1", platform: .android, pushToken: "t"))
        #expect(envelope.id == "e0383bdf-5406-82d9-97e5-f61abeac828b")
    }

    /// The size ingest checks against 4 KB is counted, not written: it must be the larger of the
    /// payload an iOS envelope carries and the FCM message (without its Android block) an Android
    /// one carries, both taken here from the envelopes' bytes.
    @Test(arguments: ["Heads up", "Line \"one\"\nline two\\", "t\u{1}\u{1F}", "Ünïcödé 日本語 👩‍👩‍👧", String(repeating: "ab", count: 250)])
    func theCountedPayloadSizeIsTheWrittenOne(_ text: String) throws {
        let body = text + "\t" + text
        let builder = builder(title: text, body: body)
        let ios = String(
            decoding: try #require(builder.envelope(userId: "u", deviceId: "d", platform: .ios, pushToken: "")).json,
            as: UTF8.self
        )
        let apns = ios[try #require(ios.range(of: #","payload":"#)).upperBound...].dropLast(2)
        let android = String(
            decoding: try #require(builder.envelope(userId: "u", deviceId: "d", platform: .android, pushToken: "")).json,
            as: UTF8.self
        )
        let alert = android[
            try #require(android.range(of: #""notification":"#)).upperBound..<(try #require(android.range(of: #","android":"#)).lowerBound)
        ]
        let fcmMessage = #"{"message":{"token":"","notification":"# + alert + "}}"
        #expect(EnvelopeBuilder.largestPayloadSize(title: text, body: body) == max(apns.utf8.count, fcmMessage.utf8.count))
    }

    @Test func controlCharactersAreEscapedToValidJSON() throws {
        let envelope = try #require(
            builder(title: "t\u{1}", body: "tab\tand\u{1F}").envelope(userId: "u", deviceId: "d", platform: .ios, pushToken: "t")
        )
        _ = try object(envelope)
    }
}

@Suite struct NotificationIDTests {
    @Test func isAVersionSevenUUIDOrderedByTime() {
        let early = NotificationID.make(at: Date(timeIntervalSince1970: 1_800_000_000))
        let late = NotificationID.make(at: Date(timeIntervalSince1970: 1_800_000_001))
        #expect(NotificationID.isWellFormed(early))
        #expect(Array(early)[14] == "7")
        #expect(early < late)
    }
}

@Suite struct RandomIdTests {
    /// The random part of a notification id: everything but the 48-bit time, the version and the variant.
    private static func randomPart(_ id: String) -> Substring { id.dropFirst(14) }

    @Test func notificationIdsOfOneMillisecondDifferInTheirRandomPart() {
        let now = Date(timeIntervalSince1970: 1_800_000_000)
        let ids = (0..<5000).map { _ in NotificationID.make(at: now) }
        #expect(Set(ids).count == ids.count)
        #expect(ids.allSatisfy { $0.hasPrefix(ids[0].prefix(13)) && NotificationID.isWellFormed($0) })
        // Each of the 18 hex digits after the version varies: no byte is left unset or constant.
        for offset in [15, 16, 17, 20, 21, 22] + Array(24...35) {
            let digits = Set(ids.map { Array($0)[offset] })
            #expect(digits.count > 4, "digit \(offset) takes only \(digits)")
        }
        #expect(Set(ids.map(Self.randomPart)).count == ids.count)
    }

    @Test func requestIdsAreVersionFourUUIDs() {
        let id = RandomUUID.make()
        let uuid = UUID(uuidString: id)
        #expect(uuid != nil)
        #expect(id == id.lowercased())
        #expect(Array(id)[14] == "4")
        #expect("89ab".contains(Array(id)[19]))
    }

    /// More draws than the pool holds, from several threads at once: every id distinct, so the pool is
    /// refilled rather than handed out twice.
    @Test func idsDrawnConcurrentlyAcrossRefillsAreDistinct() async {
        let ids = await withTaskGroup(of: [String].self) { group in
            for _ in 0..<8 { group.addTask { (0..<2000).map { _ in RandomUUID.make() } } }
            return await group.reduce(into: [String]()) { $0 += $1 }
        }
        #expect(ids.count == 16_000)
        #expect(Set(ids).count == ids.count)
    }
}
