public import Foundation

/// A strict reader of JSON objects of a known shape, for the hot paths where `JSONDecoder` costs
/// too much: the broker message the dispatcher reads for every send, and the body of every send
/// ingest accepts.
///
/// It takes only what it is sure of: objects whose keys its caller knows (each once), strings in
/// valid UTF-8 without raw control characters, arrays of strings, non-negative integers without
/// fraction or exponent, and nothing after the value but whitespace. For anything else its reads
/// answer nil or false, and the caller hands the document to `JSONDecoder`, which accepts or
/// refuses it and says why. So it never changes what is accepted, only how fast.
package struct JSONCursor {
    private let bytes: UnsafeBufferPointer<UInt8>
    private var at = 0

    private init(bytes: UnsafeBufferPointer<UInt8>) {
        self.bytes = bytes
    }

    /// What `value` reads from the start of `data`, when only whitespace follows it.
    package static func read<Value>(_ data: Data, _ value: (inout JSONCursor) -> Value?) -> Value? {
        data.withUnsafeBytes { raw in
            var cursor = JSONCursor(bytes: raw.bindMemory(to: UInt8.self))
            guard let read = value(&cursor), cursor.skipSpace() == cursor.bytes.count else { return nil }
            return read
        }
    }

    /// A non-empty object whose keys are each read once by `member`, which reads the value
    /// after the colon and answers false for a key it does not know or a value it cannot read.
    /// False when anything in it is not so.
    package mutating func object(_ member: (inout JSONCursor, String) -> Bool) -> Bool {
        var seen: [String] = []
        guard take(UInt8(ascii: "{")) else { return false }
        repeat {
            guard let key = string(), !seen.contains(key), take(UInt8(ascii: ":")), member(&self, key) else { return false }
            seen.append(key)
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "}"))
    }

    /// An array of strings, possibly empty.
    package mutating func strings() -> [String]? {
        guard take(UInt8(ascii: "[")) else { return nil }
        var values: [String] = []
        if take(UInt8(ascii: "]")) { return values }
        repeat {
            guard let value = string() else { return nil }
            values.append(value)
        } while take(UInt8(ascii: ","))
        return take(UInt8(ascii: "]")) ? values : nil
    }

    /// A non-negative integer without sign, fraction or exponent, of at most nine digits.
    package mutating func integer() -> Int? {
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

    /// A string. Most have no escape: those are taken straight from the bytes between the quotes.
    package mutating func string() -> String? {
        guard take(UInt8(ascii: "\"")) else { return nil }
        let start = at
        while at < bytes.count {
            let byte = bytes[at]
            if byte == UInt8(ascii: "\"") {
                at += 1
                return Self.utf8(UnsafeBufferPointer(rebasing: bytes[start..<(at - 1)]))
            }
            if byte == UInt8(ascii: "\\") || byte < 0x20 { break }
            at += 1
        }
        at = start
        return escapedString()
    }

    /// The rest of a string that has an escape (or is cut short), its opening quote taken.
    private mutating func escapedString() -> String? {
        var out: [UInt8] = []
        while at < bytes.count {
            let byte = bytes[at]
            at += 1
            switch byte {
            case UInt8(ascii: "\""):
                return out.withUnsafeBufferPointer(Self.utf8)
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

    /// `bytes` as a string when they are valid UTF-8. Decoding replaces what is not valid with
    /// U+FFFD, so the bytes were valid exactly when the string's are the same bytes. (The
    /// standard library's validating initializer is generic and not specialized here: it cost
    /// twenty times more.)
    private static func utf8(_ bytes: UnsafeBufferPointer<UInt8>) -> String? {
        let string = String(decoding: bytes, as: UTF8.self)
        let same = string.utf8.withContiguousStorageIfAvailable { decoded in
            decoded.count == bytes.count && (bytes.isEmpty || memcmp(decoded.baseAddress!, bytes.baseAddress!, bytes.count) == 0)
        }
        return (same ?? string.utf8.elementsEqual(bytes)) ? string : nil
    }

    private mutating func hex4() -> UInt32? {
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
    private mutating func skipSpace() -> Int {
        while at < bytes.count {
            switch bytes[at] {
            case 0x20, 0x09, 0x0A, 0x0D: at += 1
            default: return at
            }
        }
        return at
    }

    /// Takes `byte` (after whitespace) if it comes next.
    private mutating func take(_ byte: UInt8, skippingSpace: Bool = true) -> Bool {
        if skippingSpace { skipSpace() }
        guard at < bytes.count, bytes[at] == byte else { return false }
        at += 1
        return true
    }
}
