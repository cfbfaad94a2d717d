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

/// Builds the envelopes of one notification. Title and body are escaped once
/// and reused for every device, which keeps a 100,000-user fan-out cheap.
public struct EnvelopeBuilder: Sendable {
    public let notificationId: String
    public let tenantId: String
    public let createdAt: Date
    public let expiresAt: Date
    private let ttlSeconds: Int
    private let apnsPayload: String
    private let fcmNotification: String
    private let prefix: String
    private let times: String
    private let apnsHeaders: String
    private let fcmAndroid: String

    /// - Parameter ttlSeconds: how long the envelope stays deliverable (`HERALD_ENVELOPE_TTL`).
    public init(notificationId: String, tenantId: String, title: String, body: String, createdAt: Date, ttlSeconds: Int) {
        self.notificationId = notificationId
        self.tenantId = tenantId
        self.createdAt = createdAt
        self.ttlSeconds = ttlSeconds
        self.expiresAt = createdAt.addingTimeInterval(TimeInterval(ttlSeconds))
        let parts = Self.payloadParts(title: title, body: body)
        apnsPayload = parts.apns
        fcmNotification = parts.fcm
        prefix = "{\"notificationId\":\(JSONText.quoted(notificationId)),\"tenantId\":\(JSONText.quoted(tenantId))"
        let expiration = String(Int(expiresAt.timeIntervalSince1970))
        times = ",\"createdAt\":\"\(Timestamp.string(createdAt))\",\"expiresAt\":\"\(Timestamp.string(expiresAt))\""
        apnsHeaders = "{\"headers\":{\"apns-push-type\":\"alert\",\"apns-priority\":\"10\",\"apns-expiration\":\"\(expiration)\"}"
        fcmAndroid = ",\"android\":{\"priority\":\"HIGH\",\"ttl\":\"\(ttlSeconds)s\"}}}"
    }

    /// The envelope for one eligible device of `userId`; nil for a platform without push.
    public func envelope(userId: String, deviceId: String, platform: Platform, pushToken: String) -> Envelope? {
        guard let route = platform.pushRoute else { return nil }
        let id = Self.envelopeId(notificationId: notificationId, deviceId: deviceId)
        let token = JSONText.quoted(pushToken)
        var json = "{\"envelopeId\":\"\(id)\"," + prefix.dropFirst()
        json += ",\"userId\":\(JSONText.quoted(userId)),\"deviceId\":\(JSONText.quoted(deviceId))"
        json += ",\"platform\":\"\(route.rawValue)\",\"pushToken\":\(token)"
        json += times
        switch route {
        case .ios:
            json += ",\"apns\":" + apnsHeaders + ",\"payload\":" + apnsPayload + "}}"
        case .android:
            json += ",\"fcm\":{\"message\":{\"token\":\(token),\"notification\":" + fcmNotification + fcmAndroid + "}"
        }
        return Envelope(id: id, route: route, json: Array(json.utf8))
    }

    /// A name-based UUID (version 8, SHA-256) of notification id and device id:
    /// the same pair always gives the same id, so consumers can drop duplicates.
    public static func envelopeId(notificationId: String, deviceId: String) -> String {
        var digest = Array(SHA256.hash(data: Array("herald-envelope\u{0}\(notificationId)\u{0}\(deviceId)".utf8)).prefix(16))
        digest[6] = (digest[6] & 0x0F) | 0x80
        digest[8] = (digest[8] & 0x3F) | 0x80
        return UUIDFormat.string(from: digest)
    }

    /// The larger of the APNs payload and the FCM notification message, in bytes.
    public static func largestPayloadSize(title: String, body: String) -> Int {
        let parts = payloadParts(title: title, body: body)
        let fcmMessage = "{\"message\":{\"token\":\"\",\"notification\":\(parts.fcm)}}"
        return max(parts.apns.utf8.count, fcmMessage.utf8.count)
    }

    private static func payloadParts(title: String, body: String) -> (apns: String, fcm: String) {
        let alert = "{\"title\":\(JSONText.quoted(title)),\"body\":\(JSONText.quoted(body))}"
        return ("{\"aps\":{\"alert\":\(alert),\"sound\":\"default\"}}", alert)
    }
}
