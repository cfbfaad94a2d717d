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

    /// True when no byte of `utf8` must be escaped in a JSON string. A plain loop over the bytes:
    /// `contains(where:)` on the string's UTF-8 view cost ten times more.
    private static func needsNoEscape(_ utf8: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in utf8 where byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") { return false }
        return true
    }

    /// True when no byte of `text` must be escaped, looking at its storage where it can.
    private static func needsNoEscape(_ text: String) -> Bool {
        text.utf8.withContiguousStorageIfAvailable(needsNoEscape) ?? Array(text.utf8).withUnsafeBufferPointer(needsNoEscape)
    }
}
