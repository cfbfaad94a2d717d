public import Foundation

/// Reads a broker message of the usual shape without `JSONDecoder`, which cost the dispatcher
/// about 5% of its CPU per send.
///
/// It takes only what it is sure of: a JSON object holding exactly `NotificationRequest`'s fields
/// (each once, strings and an integer where they belong), well-formed strings in valid UTF-8, and
/// nothing after the object. Anything else — an unknown or repeated key, a number with a fraction,
/// a control character, bad UTF-8 — answers nil, and the caller reads the message with
/// `JSONDecoder`, which accepts or refuses it and says why. So this never changes what is accepted.
enum RequestReader {
    static func read(_ data: Data) -> NotificationRequest? {
        data.withUnsafeBytes { raw in
            var reader = Cursor(bytes: raw.bindMemory(to: UInt8.self))
            return reader.request()
        }
    }

    private struct Cursor {
        let bytes: UnsafeBufferPointer<UInt8>
        var at = 0

        mutating func request() -> NotificationRequest? {
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
            guard read, skipSpace() == bytes.count, let version, let id, let tenant, let principal, let title, let body,
                let accepted, let target
            else { return nil }
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

        mutating func target() -> NotificationTarget? {
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

        /// A non-empty object whose keys are each read once by `member`, which reads the value
        /// after the colon and answers false for a key it does not know. False when anything in it
        /// is not so.
        mutating func object(_ member: (inout Cursor, String) -> Bool) -> Bool {
            var seen = Set<String>()
            guard take(UInt8(ascii: "{")) else { return false }
            repeat {
                guard let key = string(), seen.insert(key).inserted, take(UInt8(ascii: ":")), member(&self, key) else { return false }
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "}"))
        }

        mutating func strings() -> [String]? {
            guard take(UInt8(ascii: "[")) else { return nil }
            var values: [String] = []
            if take(UInt8(ascii: "]")) { return values }
            repeat {
                guard let value = string() else { return nil }
                values.append(value)
            } while take(UInt8(ascii: ","))
            return take(UInt8(ascii: "]")) ? values : nil
        }

        /// A non-negative integer without sign, fraction or exponent.
        mutating func integer() -> Int? {
            skipSpace()
            var value = 0
            let start = at
            while at < bytes.count, bytes[at] >= UInt8(ascii: "0"), bytes[at] <= UInt8(ascii: "9"), at - start < 9 {
                value = value * 10 + Int(bytes[at] - UInt8(ascii: "0"))
                at += 1
            }
            guard at > start, at < bytes.count, !"0123456789.eE".utf8.contains(bytes[at]) else { return nil }
            if bytes[start] == UInt8(ascii: "0"), at - start > 1 { return nil }
            return value
        }

        mutating func string() -> String? {
            guard take(UInt8(ascii: "\"")) else { return nil }
            var out: [UInt8] = []
            while at < bytes.count {
                let byte = bytes[at]
                at += 1
                switch byte {
                case UInt8(ascii: "\""):
                    return String(validating: out, as: UTF8.self)
                case UInt8(ascii: "\\"):
                    guard at < bytes.count else { return nil }
                    let escape = bytes[at]
                    at += 1
                    switch escape {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): out.append(escape)
                    case UInt8(ascii: "b"): out.append(0x08)
                    case UInt8(ascii: "f"): out.append(0x0C)
                    case UInt8(ascii: "n"): out.append(0x0A)
                    case UInt8(ascii: "r"): out.append(0x0D)
                    case UInt8(ascii: "t"): out.append(0x09)
                    case UInt8(ascii: "u"):
                        guard let unit = hex4() else { return nil }
                        var scalar: Unicode.Scalar?
                        if (0xD800..<0xDC00).contains(unit) {
                            guard take(UInt8(ascii: "\\"), skippingSpace: false), take(UInt8(ascii: "u"), skippingSpace: false),
                                let low = hex4(), (0xDC00..<0xE000).contains(low)
                            else { return nil }
                            scalar = Unicode.Scalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                        } else {
                            scalar = Unicode.Scalar(unit)
                        }
                        guard let scalar else { return nil }
                        out.append(contentsOf: String(Character(scalar)).utf8)
                    default: return nil
                    }
                case 0..<0x20:
                    return nil
                default:
                    out.append(byte)
                }
            }
            return nil
        }

        mutating func hex4() -> UInt32? {
            guard at + 4 <= bytes.count else { return nil }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[at]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: return nil
                }
                value = value << 4 | UInt32(digit)
                at += 1
            }
            return value
        }

        /// Skips JSON whitespace; returns where it stopped.
        @discardableResult
        mutating func skipSpace() -> Int {
            while at < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[at]) { at += 1 }
            return at
        }

        /// Takes `byte` (after whitespace) if it comes next.
        mutating func take(_ byte: UInt8, skippingSpace: Bool = true) -> Bool {
            if skippingSpace { skipSpace() }
            guard at < bytes.count, bytes[at] == byte else { return false }
            at += 1
            return true
        }
    }
}
