/// Minimal JSON text writing for hot paths where `JSONEncoder` costs too much.
public enum JSONText {
    /// `text` as a quoted JSON string literal.
    public static func quoted(_ text: String) -> String {
        // Ids, tokens and most titles and bodies need no escaping: check the bytes once and copy.
        if needsNoEscape(text) {
            return "\"" + text + "\""
        }
        var out = "\""
        out.reserveCapacity(text.utf8.count + 2)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where scalar.value < 0x20:
                let hex = String(scalar.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(scalar)
            }
        }
        out += "\""
        return out
    }

    /// The length in bytes of `quoted(text)`.
    public static func quotedCount(_ text: String) -> Int {
        needsNoEscape(text) ? text.utf8.count + 2 : quoted(text).utf8.count
    }

    /// Appends `text` as a quoted JSON string literal to `json`.
    public static func appendQuoted(_ text: String, to json: inout [UInt8]) {
        guard needsNoEscape(text) else {
            json.append(contentsOf: quoted(text).utf8)
            return
        }
        json.append(UInt8(ascii: "\""))
        json.append(contentsOf: text.utf8)
        json.append(UInt8(ascii: "\""))
    }

    /// True when no byte of `utf8` must be escaped in a JSON string: none below 0x20, no `"` and
    /// no `\`. Eight bytes at a time (`escapeMask`), then the rest one by one: a byte loop was ~4
    /// instructions per byte, a tenth of the time spent writing a send's JSON.
    static func needsNoEscape(_ utf8: UnsafeRawBufferPointer) -> Bool {
        var offset = 0
        while offset + 8 <= utf8.count {
            if escapeMask(utf8.loadUnaligned(fromByteOffset: offset, as: UInt64.self)) != 0 { return false }
            offset += 8
        }
        while offset < utf8.count {
            let byte = utf8[offset]
            if byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return false }
            offset += 1
        }
        return true
    }

    /// Nonzero when one of the eight bytes in `word` is below 0x20, a `"` or a `\`: the high bit
    /// of each byte that is, and perhaps of bytes after it (borrows run upwards), never of a
    /// byte when none is. The classic "has a byte less than n" and "has a zero byte" tests.
    @inline(__always)
    private static func escapeMask(_ word: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        func zeroBytes(_ x: UInt64) -> UInt64 { (x &- ones) & ~x & highs }
        let control = (word &- ones &* 0x20) & ~word & highs
        return control | zeroBytes(word ^ (ones &* 0x22)) | zeroBytes(word ^ (ones &* 0x5C))
    }

    /// True when no byte of `text` must be escaped, looking at its storage where it can.
    private static func needsNoEscape(_ text: String) -> Bool {
        text.utf8.withContiguousStorageIfAvailable { needsNoEscape(UnsafeRawBufferPointer($0)) }
            ?? Array(text.utf8).withUnsafeBytes(needsNoEscape)
    }
}
