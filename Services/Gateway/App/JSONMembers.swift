import Foundation
import HeraldCore

/// The members of one JSON object, each value kept as the bytes it came as: the gateway reads
/// the few fields it needs from an envelope and sends its APNs payload or FCM message on as it
/// came, without building a tree and writing it out again (that cost a tenth of its CPU).
///
/// It checks the structure (strings, nesting, separators), not the spelling of numbers and
/// literals inside values it passes on: the push service judges those, as it would anyway.
struct JSONMembers {
    struct Malformed: Error {}

    /// The text the ranges point into.
    let text: [UInt8]
    /// Where this object is in `text`, from `{` to `}`.
    private(set) var range: Range<Int> = 0..<0
    /// Each member's key, raw key (with its quotes) and value, as ranges into `text`, in order.
    private(set) var members: [(key: String, rawKey: Range<Int>, value: Range<Int>)] = []

    /// The object that `range` of `text` holds (all of it, give or take white space).
    init(_ text: [UInt8], range: Range<Int>? = nil) throws {
        self.text = text
        var reader = Reader(text: text, index: range?.lowerBound ?? 0, end: range?.upperBound ?? text.count)
        reader.skipSpace()
        let start = reader.index
        try reader.expect(UInt8(ascii: "{"))
        reader.skipSpace()
        if reader.peek == UInt8(ascii: "}") {
            reader.index += 1
        } else {
            while true {
                reader.skipSpace()
                let keyStart = reader.index
                try reader.skipString()
                let rawKey = keyStart..<reader.index
                let key = try Self.string(text, rawKey)
                reader.skipSpace()
                try reader.expect(UInt8(ascii: ":"))
                reader.skipSpace()
                let valueStart = reader.index
                try reader.skipValue()
                members.append((key, rawKey, valueStart..<reader.index))
                reader.skipSpace()
                if reader.peek == UInt8(ascii: ",") {
                    reader.index += 1
                    continue
                }
                try reader.expect(UInt8(ascii: "}"))
                break
            }
        }
        self.range = start..<reader.index
        reader.skipSpace()
        guard reader.index == reader.end else { throw Malformed() }
    }

    /// The value of `key`, as a range into `text` (the last one if the key repeats, as
    /// JSONSerialization reads it).
    subscript(key: String) -> Range<Int>? { members.last { $0.key == key }?.value }

    /// The string value of `key`; nil when it is missing or not a string.
    func string(_ key: String) -> String? {
        guard let range = self[key], text[range.lowerBound] == UInt8(ascii: "\"") else { return nil }
        return try? Self.string(text, range)
    }

    /// The object value of `key`; nil when it is missing, throws when it is not an object.
    func object(_ key: String) throws -> JSONMembers? {
        guard let range = self[key] else { return nil }
        guard text[range.lowerBound] == UInt8(ascii: "{") else { throw Malformed() }
        return try JSONMembers(text, range: range)
    }

    /// This object written out again with `replacing` members put in place of its own (at the
    /// end): each value raw JSON text.
    func writing(replacing: [(key: String, value: [UInt8])]) -> [UInt8] {
        let replaced = Set(replacing.map(\.key))
        let kept = members.filter { !replaced.contains($0.key) }.map { (rawKey: Array(text[$0.rawKey]), value: Array(text[$0.value])) }
        return Self.object(kept + replacing.map { (rawKey: Array(JSONText.quoted($0.key).utf8), value: $0.value) })
    }

    /// An object of these members, each value raw JSON text.
    static func writing(_ members: [(key: String, value: [UInt8])]) -> [UInt8] {
        object(members.map { (rawKey: Array(JSONText.quoted($0.key).utf8), value: $0.value) })
    }

    /// The object's own text, from `{` to `}`.
    var bytes: ArraySlice<UInt8> { text[range] }

    private static func object(_ members: [(rawKey: [UInt8], value: [UInt8])]) -> [UInt8] {
        var out: [UInt8] = [UInt8(ascii: "{")]
        out.reserveCapacity(members.reduce(2) { $0 + $1.rawKey.count + $1.value.count + 2 })
        for (index, member) in members.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += member.rawKey
            out.append(UInt8(ascii: ":"))
            out += member.value
        }
        out.append(UInt8(ascii: "}"))
        return out
    }

    /// A JSON string literal's value; its escapes decoded (rare in an envelope: by the parser).
    private static func string(_ text: [UInt8], _ range: Range<Int>) throws -> String {
        let inner = text[(range.lowerBound + 1)..<(range.upperBound - 1)]
        if !inner.contains(UInt8(ascii: "\\")) { return String(decoding: inner, as: UTF8.self) }
        guard let value = try? JSONSerialization.jsonObject(with: Data(text[range]), options: [.fragmentsAllowed]) as? String else {
            throw Malformed()
        }
        return value
    }

    private struct Reader {
        let text: [UInt8]
        var index: Int
        let end: Int

        var peek: UInt8? { index < end ? text[index] : nil }

        mutating func skipSpace() {
            while let byte = peek, byte == 0x20 || byte == 0x0A || byte == 0x0D || byte == 0x09 { index += 1 }
        }

        mutating func expect(_ byte: UInt8) throws {
            guard peek == byte else { throw Malformed() }
            index += 1
        }

        /// Past a string literal starting here; no raw control characters inside.
        mutating func skipString() throws {
            try expect(UInt8(ascii: "\""))
            while let byte = peek {
                index += 1
                switch byte {
                case UInt8(ascii: "\""): return
                case UInt8(ascii: "\\"):
                    guard peek != nil else { throw Malformed() }
                    index += 1
                case ..<0x20: throw Malformed()
                default: break
                }
            }
            throw Malformed()
        }

        /// Past one value: a string, an object or array (nesting and strings inside followed),
        /// or a scalar up to the next separator.
        mutating func skipValue() throws {
            guard let byte = peek else { throw Malformed() }
            switch byte {
            case UInt8(ascii: "\""): try skipString()
            case UInt8(ascii: "{"), UInt8(ascii: "["):
                var closers: [UInt8] = []
                repeat {
                    guard let next = peek else { throw Malformed() }
                    switch next {
                    case UInt8(ascii: "\""):
                        try skipString()
                        continue
                    case UInt8(ascii: "{"): closers.append(UInt8(ascii: "}"))
                    case UInt8(ascii: "["): closers.append(UInt8(ascii: "]"))
                    case UInt8(ascii: "}"), UInt8(ascii: "]"):
                        guard closers.popLast() == next else { throw Malformed() }
                    case ..<0x20 where next != 0x0A && next != 0x0D && next != 0x09: throw Malformed()
                    default: break
                    }
                    index += 1
                } while !closers.isEmpty
            default:
                let start = index
                while let next = peek, ![UInt8(ascii: ","), UInt8(ascii: "}"), UInt8(ascii: "]"), 0x20, 0x0A, 0x0D, 0x09].contains(next) {
                    index += 1
                }
                guard index > start else { throw Malformed() }
            }
        }
    }
}
