public import Foundation

/// Reads a broker message of the usual shape without `JSONDecoder`, which cost the dispatcher
/// about 5% of its CPU per send.
///
/// It takes only what it is sure of (see `JSONCursor`): a JSON object holding exactly
/// `NotificationRequest`'s fields, each once, strings and an integer where they belong. Anything
/// else answers nil, and the caller reads the message with `JSONDecoder`, which accepts or refuses
/// it and says why. So this never changes what is accepted.
enum RequestReader {
    static func read(_ data: Data) -> NotificationRequest? {
        JSONCursor.read(data) { $0.request() }
    }
}

extension JSONCursor {
    fileprivate mutating func request() -> NotificationRequest? {
        var version: Int?
        var id: String?
        var tenant: String?
        var principal: String?
        var title: String?
        var body: String?
        var accepted: Date?
        var target: NotificationTarget?
        var route: SendRoute?
        var tokenId: String?
        let read = object { cursor, key in
            switch key {
            case "schemaVersion": version = cursor.integer()
            case "id": id = cursor.string()
            case "tenantId": tenant = cursor.string()
            case "principalId": principal = cursor.string()
            case "title": title = cursor.string()
            case "body": body = cursor.string()
            case "acceptedAt": accepted = cursor.string().flatMap(Timestamp.date)
            case "target": target = cursor.target()
            case "route":
                guard let known = cursor.string().flatMap(SendRoute.init(rawValue:)) else { return false }
                route = known
            case "tokenId":
                guard let read = cursor.string() else { return false }
                tokenId = read
            default: return false
            }
            return true
        }
        guard read, let version, let id, let tenant, let principal, let title, let body, let accepted, let target else {
            return nil
        }
        return NotificationRequest(
            id: id,
            tenantId: tenant,
            principalId: principal,
            target: target,
            title: title,
            body: body,
            acceptedAt: accepted,
            route: route,
            tokenId: tokenId,
            schemaVersion: version
        )
    }

    private mutating func target() -> NotificationTarget? {
        var kind: String?
        var device: String?
        var groups: [String]?
        let read = object { cursor, key in
            switch key {
            case "kind": kind = cursor.string()
            case "deviceId": device = cursor.string()
            case "groupIds": groups = cursor.strings()
            default: return false
            }
            return true
        }
        guard read else { return nil }
        switch kind {
        case "device" where groups == nil: return device.map { .device($0) }
        case "group" where device == nil: return groups.map { .groups($0) }
        default: return nil
        }
    }
}
