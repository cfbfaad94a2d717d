import Crypto
public import Foundation

/// One push message for one device, ready to publish to `herald.push`.
public struct Envelope: Sendable {
    /// Deterministic from notification id and device id; also the AMQP `message_id`.
    public var id: String
    /// The routing key on `herald.push`.
    public var route: PushRoute
    /// The envelope JSON (the shape docs/contracts.md gives).
    public var json: [UInt8]
}

/// Builds the envelopes of one notification. Everything but the device's own fields is written
/// once, as bytes, and copied into every envelope, which keeps a 100,000-user fan-out cheap.
public struct EnvelopeBuilder: Sendable {
    public let notificationId: String
    public let tenantId: String
    public let createdAt: Date
    public let expiresAt: Date
    /// From the quote that closes the envelope id to the user id: `","notificationId":…,"userId":`.
    private let afterId: [UInt8]
    /// All that follows an iOS envelope's push token: the times, the APNs headers and payload.
    private let iosTail: [UInt8]
    /// What follows an Android envelope's push token up to the token again, inside `fcm`.
    private let androidMiddle: [UInt8]
    /// What follows the second token: the FCM notification and Android settings.
    private let androidTail: [UInt8]
    /// SHA-256 already fed with all an envelope id names but the device.
    private let idHasher: SHA256

    /// - Parameter ttlSeconds: how long the envelope stays deliverable (`HERALD_ENVELOPE_TTL`).
    public init(notificationId: String, tenantId: String, title: String, body: String, createdAt: Date, ttlSeconds: Int) {
        self.notificationId = notificationId
        self.tenantId = tenantId
        self.createdAt = createdAt
        self.expiresAt = createdAt.addingTimeInterval(TimeInterval(ttlSeconds))
        let parts = Self.payloadParts(title: title, body: body)
        let times = [",\"createdAt\":\"", Timestamp.string(createdAt), "\",\"expiresAt\":\"", Timestamp.string(expiresAt), "\""]
        let apnsHeaders = #"{"headers":{"apns-push-type":"alert","apns-priority":"10","apns-expiration":""#
        afterId = Self.bytes([
            "\",\"notificationId\":", JSONText.quoted(notificationId), ",\"tenantId\":", JSONText.quoted(tenantId), ",\"userId\":",
        ])
        iosTail = Self.bytes(
            times + [",\"apns\":", apnsHeaders, String(Int(expiresAt.timeIntervalSince1970)), "\"},\"payload\":", parts.apns, "}}"]
        )
        androidMiddle = Self.bytes(times + [",\"fcm\":{\"message\":{\"token\":"])
        androidTail = Self.bytes([
            ",\"notification\":", parts.fcm, ",\"android\":{\"priority\":\"HIGH\",\"ttl\":\"", String(ttlSeconds), "s\"}}}}",
        ])
        idHasher = Self.idHasher(notificationId: notificationId)
    }

    /// The envelope for one eligible device of `userId`; nil for a platform without push.
    public func envelope(userId: String, deviceId: String, platform: Platform, pushToken: String) -> Envelope? {
        guard let route = platform.pushRoute else { return nil }
        let id = Self.envelopeId(idHasher, deviceId: deviceId)
        let tail = route == .ios ? iosTail.count : androidMiddle.count + pushToken.utf8.count + 2 + androidTail.count
        var json: [UInt8] = []
        json.reserveCapacity(afterId.count + userId.utf8.count + deviceId.utf8.count + pushToken.utf8.count + tail + 96)
        json.append(contentsOf: #"{"envelopeId":""#.utf8)
        json.append(contentsOf: id.utf8)
        json.append(contentsOf: afterId)
        JSONText.appendQuoted(userId, to: &json)
        json.append(contentsOf: #","deviceId":"#.utf8)
        JSONText.appendQuoted(deviceId, to: &json)
        json.append(contentsOf: #","platform":""#.utf8)
        json.append(contentsOf: route.rawValue.utf8)
        json.append(contentsOf: #"","pushToken":"#.utf8)
        JSONText.appendQuoted(pushToken, to: &json)
        switch route {
        case .ios:
            json.append(contentsOf: iosTail)
        case .android:
            json.append(contentsOf: androidMiddle)
            JSONText.appendQuoted(pushToken, to: &json)
            json.append(contentsOf: androidTail)
        }
        return Envelope(id: id, route: route, json: json)
    }

    /// A name-based UUID (version 8, SHA-256) of notification id and device id:
    /// the same pair always gives the same id, so consumers can drop duplicates.
    public static func envelopeId(notificationId: String, deviceId: String) -> String {
        envelopeId(idHasher(notificationId: notificationId), deviceId: deviceId)
    }

    /// SHA-256 fed with `herald-envelope`, NUL, the notification id and NUL.
    private static func idHasher(notificationId: String) -> SHA256 {
        var hasher = SHA256()
        hasher.update(data: Array("herald-envelope\u{0}\(notificationId)\u{0}".utf8))
        return hasher
    }

    private static func envelopeId(_ named: SHA256, deviceId: String) -> String {
        var hasher = named
        if deviceId.utf8.withContiguousStorageIfAvailable({ hasher.update(bufferPointer: UnsafeRawBufferPointer($0)) }) == nil {
            hasher.update(data: Array(deviceId.utf8))
        }
        return hasher.finalize().withUnsafeBytes { digest in
            withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 16) { bytes in
                _ = bytes.initialize(from: digest.prefix(16))
                bytes[6] = (bytes[6] & 0x0F) | 0x80
                bytes[8] = (bytes[8] & 0x3F) | 0x80
                return UUIDFormat.string(from: bytes)
            }
        }
    }

    /// `parts` one after the other, as UTF-8.
    private static func bytes(_ parts: [String]) -> [UInt8] {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(parts.reduce(0) { $0 + $1.utf8.count })
        for part in parts { bytes.append(contentsOf: part.utf8) }
        return bytes
    }

    /// The larger of the APNs payload and the FCM notification message, in bytes.
    /// Counted, not written: ingest checks it for every send.
    public static func largestPayloadSize(title: String, body: String) -> Int {
        let alert = #"{"title":,"body":}"#.utf8.count + JSONText.quotedCount(title) + JSONText.quotedCount(body)
        let apns = #"{"aps":{"alert":,"sound":"default"}}"#.utf8.count + alert
        let fcmMessage = #"{"message":{"token":"","notification":}}"#.utf8.count + alert
        return max(apns, fcmMessage)
    }

    private static func payloadParts(title: String, body: String) -> (apns: String, fcm: String) {
        let alert = "{\"title\":\(JSONText.quoted(title)),\"body\":\(JSONText.quoted(body))}"
        return ("{\"aps\":{\"alert\":\(alert),\"sound\":\"default\"}}", alert)
    }
}
