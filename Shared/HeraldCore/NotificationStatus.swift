public import Foundation

/// Where a notification is in its life.
public enum DeliveryState: String, Codable, Sendable, CaseIterable {
    case accepted, deferred, dispatched, throttled, failed

    /// Dispatched, throttled or failed: nothing more happens to it, and a copy of its request is dropped.
    public var isFinished: Bool { self == .dispatched || self == .throttled || self == .failed }
}

/// The status record `GET /v1/notifications/{id}` answers. It never holds the title or body.
public struct NotificationStatus: Codable, Sendable, Equatable {
    public var id: String
    public var tenantId: String
    public var kind: NotificationKind
    public var status: DeliveryState
    public var acceptedAt: Date
    public var deferredUntil: Date?
    public var dispatchedAt: Date?
    public var envelopes: [String: Int]
    public var skipped: [String: Int]
    public var reason: String?
    /// What herald-gateway made of the envelopes so far.
    public var delivery: Delivery

    /// Pushes the services accepted, envelopes that expired before their push, failures by the
    /// service's reason; `pending` is the rest of the envelopes.
    public struct Delivery: Codable, Sendable, Equatable {
        public var sent: Int
        public var failed: [String: Int]
        public var expired: Int

        public init(sent: Int = 0, failed: [String: Int] = [:], expired: Int = 0) {
            self.sent = sent
            self.failed = failed
            self.expired = expired
        }
    }

    /// Envelopes the gateway has not finished with yet.
    public var pendingPushes: Int {
        max(0, envelopes.values.reduce(0, +) - delivery.sent - delivery.expired - delivery.failed.values.reduce(0, +))
    }

    public init(
        id: String,
        tenantId: String,
        kind: NotificationKind,
        status: DeliveryState,
        acceptedAt: Date,
        deferredUntil: Date? = nil,
        dispatchedAt: Date? = nil,
        envelopes: [String: Int] = ["ios": 0, "android": 0],
        skipped: [String: Int] = [:],
        reason: String? = nil,
        delivery: Delivery = Delivery()
    ) {
        self.id = id
        self.tenantId = tenantId
        self.kind = kind
        self.status = status
        self.acceptedAt = acceptedAt
        self.deferredUntil = deferredUntil
        self.dispatchedAt = dispatchedAt
        self.envelopes = envelopes
        self.skipped = skipped
        self.reason = reason
        self.delivery = delivery
    }

    private enum CodingKeys: String, CodingKey {
        case id, kind, status, acceptedAt, deferredUntil, dispatchedAt, envelopes, skipped, reason, delivery
    }

    private enum DeliveryKeys: String, CodingKey {
        case sent, failed, expired, pending
    }

    /// The public document; the tenant id is implied by the caller's token and not repeated.
    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(id, forKey: .id)
        try c.encode(kind, forKey: .kind)
        try c.encode(status, forKey: .status)
        try c.encode(acceptedAt, forKey: .acceptedAt)
        try c.encode(deferredUntil, forKey: .deferredUntil)
        try c.encode(dispatchedAt, forKey: .dispatchedAt)
        try c.encode(envelopes, forKey: .envelopes)
        try c.encode(skipped, forKey: .skipped)
        try c.encode(reason, forKey: .reason)
        var d = c.nestedContainer(keyedBy: DeliveryKeys.self, forKey: .delivery)
        try d.encode(delivery.sent, forKey: .sent)
        try d.encode(delivery.failed, forKey: .failed)
        try d.encode(delivery.expired, forKey: .expired)
        try d.encode(pendingPushes, forKey: .pending)
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        id = try c.decode(String.self, forKey: .id)
        tenantId = ""
        kind = try c.decode(NotificationKind.self, forKey: .kind)
        status = try c.decode(DeliveryState.self, forKey: .status)
        acceptedAt = try c.decode(Date.self, forKey: .acceptedAt)
        deferredUntil = try c.decodeIfPresent(Date.self, forKey: .deferredUntil)
        dispatchedAt = try c.decodeIfPresent(Date.self, forKey: .dispatchedAt)
        envelopes = try c.decode([String: Int].self, forKey: .envelopes)
        skipped = try c.decode([String: Int].self, forKey: .skipped)
        reason = try c.decodeIfPresent(String.self, forKey: .reason)
        delivery = try c.decodeIfPresent(Delivery.self, forKey: .delivery) ?? Delivery()
    }
}

extension NotificationStatus {
    /// `skipped` as the stores keep it in a text column: a JSON object with sorted keys, `{}` when
    /// none (written by hand: a `JSONEncoder` per record was a visible share of the dispatcher's time).
    public static func skippedColumn(_ skipped: [String: Int]) -> String {
        guard !skipped.isEmpty else { return "{}" }
        return "{" + skipped.sorted { $0.key < $1.key }.map { "\(JSONText.quoted($0.key)):\($0.value)" }.joined(separator: ",") + "}"
    }

    /// What `skippedColumn(_:)` wrote; empty for `{}` or a column that does not read.
    public static func skipped(fromColumn text: String) -> [String: Int] {
        guard text != "{}" else { return [:] }
        return (try? JSONDecoder().decode([String: Int].self, from: Data(text.utf8))) ?? [:]
    }
}
