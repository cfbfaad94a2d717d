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
    /// Who sent it, how (the audit trail); nil in records written before Herald kept it.
    public var initiator: Initiator?
    /// The groups or the device the caller named; nil in records written before Herald kept it.
    public var targets: NotificationTarget?

    /// Who asked for a send: the principal, the token's `jti` if it had one, and the route.
    public struct Initiator: Codable, Sendable, Equatable {
        public var principalId: String
        public var tokenId: String?
        public var route: SendRoute

        public init(principalId: String, tokenId: String? = nil, route: SendRoute) {
            self.principalId = principalId
            self.tokenId = tokenId
            self.route = route
        }
    }

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
        delivery: Delivery = Delivery(),
        initiator: Initiator? = nil,
        targets: NotificationTarget? = nil
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
        self.initiator = initiator
        self.targets = targets
    }

    private enum CodingKeys: String, CodingKey {
        case id, kind, status, acceptedAt, deferredUntil, dispatchedAt, envelopes, skipped, reason, delivery, initiator, targets
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
        try c.encodeIfPresent(initiator, forKey: .initiator)
        try c.encodeIfPresent(targets, forKey: .targets)
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
        initiator = try c.decodeIfPresent(Initiator.self, forKey: .initiator)
        targets = try c.decodeIfPresent(NotificationTarget.self, forKey: .targets)
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

/// The way a send reached Herald: the `/v1` API, a Microsoft Graph-shaped route, or the console.
public enum SendRoute: String, Codable, Sendable, CaseIterable {
    case api, graph, console
}

extension NotificationTarget {
    /// The ids named: the groups, or the one device.
    public var ids: [String] {
        switch self {
        case .groups(let ids): ids
        case .device(let id): [id]
        }
    }

    /// `ids` as the stores keep them in a text column: a JSON array, the kind column saying
    /// whether of groups or of the one device.
    public var idsColumn: String { "[" + ids.map(JSONText.quoted).joined(separator: ",") + "]" }

    /// The target a kind and an `idsColumn` name; nil for anything else.
    public init?(kind: NotificationKind, idsColumn: String?) {
        guard let data = idsColumn?.data(using: .utf8), let ids = try? JSONDecoder().decode([String].self, from: data) else {
            return nil
        }
        switch kind {
        case .group: self = .groups(ids)
        case .device:
            guard ids.count == 1 else { return nil }
            self = .device(ids[0])
        }
    }
}

extension NotificationStatus.Initiator {
    /// The initiator the stores' columns hold (`initiator`, `initiator_token`, `route`); nil for a
    /// record made before the audit trail. A route this version does not know reads as `api`.
    public init?(principalColumn: String?, tokenColumn: String?, routeColumn: String?) {
        guard let principalColumn else { return nil }
        self.init(principalId: principalColumn, tokenId: tokenColumn, route: routeColumn.flatMap(SendRoute.init(rawValue:)) ?? .api)
    }
}
