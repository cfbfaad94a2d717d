public import Foundation

/// What a send targets.
public enum NotificationTarget: Codable, Sendable, Equatable {
    case groups([String])
    case device(String)

    /// `group` or `device`, as the status record's `kind` says.
    public var kind: NotificationKind {
        switch self {
        case .groups: .group
        case .device: .device
        }
    }

    private enum CodingKeys: String, CodingKey { case kind, groupIds, deviceId }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        switch try c.decode(NotificationKind.self, forKey: .kind) {
        case .group: self = .groups(try c.decode([String].self, forKey: .groupIds))
        case .device: self = .device(try c.decode(String.self, forKey: .deviceId))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(kind, forKey: .kind)
        switch self {
        case .groups(let ids): try c.encode(ids, forKey: .groupIds)
        case .device(let id): try c.encode(id, forKey: .deviceId)
        }
    }
}

/// Whether a notification went to groups or to one device.
public enum NotificationKind: String, Codable, Sendable {
    case group, device
}

/// An accepted send: the message ingest publishes to `herald.requests`.
///
/// This is the only place a title and body live after acceptance; the
/// dispatcher acks the message once its envelopes are confirmed, and no store
/// keeps the text.
public struct NotificationRequest: Codable, Sendable, Equatable {
    /// The version of this message's shape.
    public static let currentSchemaVersion = 1

    public var schemaVersion: Int
    public var id: String
    public var tenantId: String
    public var principalId: String
    public var target: NotificationTarget
    public var title: String
    public var body: String
    public var acceptedAt: Date
    /// How the send came in (absent from messages of versions before the audit trail).
    public var route: SendRoute?
    /// The `jti` of the caller's token, if it had one.
    public var tokenId: String?

    public init(
        id: String,
        tenantId: String,
        principalId: String,
        target: NotificationTarget,
        title: String,
        body: String,
        acceptedAt: Date,
        route: SendRoute? = nil,
        tokenId: String? = nil,
        schemaVersion: Int = NotificationRequest.currentSchemaVersion
    ) {
        self.schemaVersion = schemaVersion
        self.id = id
        self.tenantId = tenantId
        self.principalId = principalId
        self.target = target
        self.title = title
        self.body = body
        self.acceptedAt = acceptedAt
        self.route = route
        self.tokenId = tokenId
    }

    /// The JSON written to the broker: what `HeraldJSON.encoder` writes (sorted keys, RFC 3339
    /// time), written directly. A `JSONEncoder` per send was 4% of ingest's CPU at peak.
    public func encoded() throws -> Data {
        var json: [UInt8] = []
        json.reserveCapacity(title.utf8.count + body.utf8.count + id.utf8.count + tenantId.utf8.count + principalId.utf8.count + 256)
        json.append(contentsOf: #"{"acceptedAt":""#.utf8)
        json.append(contentsOf: Timestamp.string(acceptedAt).utf8)
        json.append(contentsOf: #"","body":"#.utf8)
        JSONText.appendQuoted(body, to: &json)
        json.append(contentsOf: #","id":"#.utf8)
        JSONText.appendQuoted(id, to: &json)
        json.append(contentsOf: #","principalId":"#.utf8)
        JSONText.appendQuoted(principalId, to: &json)
        if let route {
            json.append(contentsOf: #","route":""#.utf8)
            json.append(contentsOf: route.rawValue.utf8)
            json.append(UInt8(ascii: "\""))
        }
        json.append(contentsOf: #","schemaVersion":"#.utf8)
        json.append(contentsOf: String(schemaVersion).utf8)
        json.append(contentsOf: #","target":{"#.utf8)
        switch target {
        case .device(let deviceId):
            json.append(contentsOf: #""deviceId":"#.utf8)
            JSONText.appendQuoted(deviceId, to: &json)
        case .groups(let ids):
            json.append(contentsOf: #""groupIds":["#.utf8)
            for (index, groupId) in ids.enumerated() {
                if index > 0 { json.append(UInt8(ascii: ",")) }
                JSONText.appendQuoted(groupId, to: &json)
            }
            json.append(UInt8(ascii: "]"))
        }
        json.append(contentsOf: #","kind":""#.utf8)
        json.append(contentsOf: target.kind.rawValue.utf8)
        json.append(contentsOf: #""},"tenantId":"#.utf8)
        JSONText.appendQuoted(tenantId, to: &json)
        json.append(contentsOf: #","title":"#.utf8)
        JSONText.appendQuoted(title, to: &json)
        if let tokenId {
            json.append(contentsOf: #","tokenId":"#.utf8)
            JSONText.appendQuoted(tokenId, to: &json)
        }
        json.append(UInt8(ascii: "}"))
        return Data(json)
    }

    private enum CodingKeys: String, CodingKey {
        case schemaVersion, id, tenantId, principalId, target, title, body, acceptedAt, route, tokenId
    }

    /// Reads every field; a `route` this version does not know is left out rather than refused, so
    /// a dispatcher of an older version still sends what a newer ingest accepted.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        schemaVersion = try c.decode(Int.self, forKey: .schemaVersion)
        id = try c.decode(String.self, forKey: .id)
        tenantId = try c.decode(String.self, forKey: .tenantId)
        principalId = try c.decode(String.self, forKey: .principalId)
        target = try c.decode(NotificationTarget.self, forKey: .target)
        title = try c.decode(String.self, forKey: .title)
        body = try c.decode(String.self, forKey: .body)
        acceptedAt = try c.decode(Date.self, forKey: .acceptedAt)
        route = (try? c.decodeIfPresent(String.self, forKey: .route)).flatMap { $0.flatMap(SendRoute.init(rawValue:)) }
        tokenId = try c.decodeIfPresent(String.self, forKey: .tokenId)
    }

    /// The status record's audit part: who sent it, how, and what it named.
    public var initiator: NotificationStatus.Initiator? {
        route.map { NotificationStatus.Initiator(principalId: principalId, tokenId: tokenId, route: $0) }
    }

    /// Reads a broker message; throws on anything this version cannot process.
    public static func decode(_ data: Data) throws -> NotificationRequest {
        let request = try RequestReader.read(data) ?? HeraldJSON.decoder.decode(NotificationRequest.self, from: data)
        guard request.schemaVersion == currentSchemaVersion else {
            throw DecodingError.dataCorrupted(
                .init(
                    codingPath: [],
                    debugDescription: "unsupported schemaVersion \(request.schemaVersion)"
                )
            )
        }
        return request
    }
}

/// The JSON coders every Herald document uses: RFC 3339 dates, sorted keys.
public enum HeraldJSON {
    public static var encoder: JSONEncoder {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        e.dateEncodingStrategy = .custom { date, encoder in
            var c = encoder.singleValueContainer()
            try c.encode(Timestamp.string(date))
        }
        return e
    }

    public static var decoder: JSONDecoder {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .custom { decoder in
            let c = try decoder.singleValueContainer()
            let text = try c.decode(String.self)
            guard let date = Timestamp.date(text) else {
                throw DecodingError.dataCorruptedError(in: c, debugDescription: "not an RFC 3339 timestamp")
            }
            return date
        }
        return d
    }
}
