import Foundation
import Testing

@testable import HeraldCore

/// `JSONText` decides per string whether it can be copied unescaped, eight bytes at a time. It
/// must answer as a byte-by-byte check does, wherever in a word the byte that needs escaping is.
@Suite struct JSONTextTests {
    static func byteByByte(_ bytes: [UInt8]) -> Bool {
        !bytes.contains { $0 < 0x20 || $0 == UInt8(ascii: "\"") || $0 == UInt8(ascii: "\\") }
    }

    @Test func theWordCheckAnswersAsTheByteCheck() {
        // Every byte value at every offset of texts of 1 to 24 bytes, amid plain and non-ASCII fill.
        for fill: UInt8 in [UInt8(ascii: "a"), 0xC3, 0xFF, 0x20, 0x21, 0x23, 0x5B, 0x5D, 0x7F, 0x80] {
            for length in 1...24 {
                for offset in 0..<length {
                    for byte in UInt8.min...UInt8.max {
                        var bytes = [UInt8](repeating: fill, count: length)
                        bytes[offset] = byte
                        let expected = Self.byteByByte(bytes)
                        #expect(bytes.withUnsafeBytes(JSONText.needsNoEscape) == expected, "\(bytes)")
                    }
                }
            }
        }
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let bytes = (0..<Int.random(in: 0...64, using: &generator)).map { _ in
                // Mostly plain bytes, now and then one of the three kinds that need escaping.
                Int.random(in: 0..<16, using: &generator) == 0 ? UInt8.random(in: 0...0x5C) : UInt8.random(in: 0x23...0xFF)
            }
            #expect(bytes.withUnsafeBytes(JSONText.needsNoEscape) == Self.byteByByte(bytes), "\(bytes)")
        }
    }

    @Test func quotedTextMatchesJSONSerialization() throws {
        for text in [
            "", "plain", "a\"b", "back\\slash", "tab\there", "line\nbreak", "\u{1}", "é 😀 \u{7F}", String(repeating: "x\"", count: 40),
        ] {
            let quoted = JSONText.quoted(text)
            let decoded = try JSONSerialization.jsonObject(with: Data("[\(quoted)]".utf8)) as? [String]
            #expect(decoded == [text], "\(text)")
            var bytes: [UInt8] = []
            JSONText.appendQuoted(text, to: &bytes)
            #expect(bytes == Array(quoted.utf8))
            #expect(JSONText.quotedCount(text) == quoted.utf8.count)
        }
    }
}
