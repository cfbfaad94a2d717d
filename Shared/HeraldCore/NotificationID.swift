public import Foundation

/// Notification ids: UUIDv7 (RFC 9562), so they sort by acceptance time.
public enum NotificationID {
    /// A new, random, time-ordered id in lowercase UUID form.
    public static func make(at date: Date = Date()) -> String {
        var generator = PooledRandom()
        return make(at: date, using: &generator)
    }

    /// A UUIDv7 from a chosen random source (reproducible ids for load seeding).
    public static func make<R: RandomNumberGenerator>(at date: Date, using generator: inout R) -> String {
        let millis = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: millis >> (8 * (5 - i))) }
        // Ten random bytes from two draws (one draw a byte asked the kernel ten times a send).
        let high = generator.next()
        let low = generator.next()
        for i in 6..<8 { bytes[i] = UInt8(truncatingIfNeeded: high >> (8 * (i - 6))) }
        for i in 8..<16 { bytes[i] = UInt8(truncatingIfNeeded: low >> (8 * (i - 8))) }
        bytes[6] = (bytes[6] & 0x0F) | 0x70  // version 7
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 9562 variant
        return UUIDFormat.string(from: bytes)
    }

    /// Whether a string is a UUID in the canonical 8-4-4-4-12 form.
    public static func isWellFormed(_ id: String) -> Bool {
        UUID(uuidString: id) != nil
    }
}

/// Formats 16 bytes as a lowercase canonical UUID (on the fan-out's per-envelope path, so no `String(format:)`).
enum UUIDFormat {
    static func string(from bytes: some Collection<UInt8>) -> String {
        String(unsafeUninitializedCapacity: 36) { utf8 in
            var at = 0
            var index = 0
            for byte in bytes where index < 16 {
                if index == 4 || index == 6 || index == 8 || index == 10 {
                    utf8[at] = UInt8(ascii: "-")
                    at += 1
                }
                utf8[at] = Hex.digit(byte >> 4)
                utf8[at + 1] = Hex.digit(byte & 0x0F)
                at += 2
                index += 1
            }
            return at
        }
    }
}

/// Lowercase hexadecimal.
public enum Hex {
    /// The digit of `nibble` (0...15).
    static func digit(_ nibble: UInt8) -> UInt8 {
        nibble < 10 ? UInt8(ascii: "0") + nibble : UInt8(ascii: "a") - 10 + nibble
    }

    /// `bytes` as lowercase hex, two digits a byte.
    public static func string(_ bytes: some Sequence<UInt8>) -> String {
        var utf8: [UInt8] = []
        for byte in bytes {
            utf8.append(digit(byte >> 4))
            utf8.append(digit(byte & 0x0F))
        }
        return String(decoding: utf8, as: UTF8.self)
    }
}
