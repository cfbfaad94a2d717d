public import Foundation

/// Notification ids: UUIDv7 (RFC 9562), so they sort by acceptance time.
public enum NotificationID {
    /// A new, random, time-ordered id in lowercase UUID form.
    public static func make(at date: Date = Date()) -> String {
        var generator = SystemRandomNumberGenerator()
        return make(at: date, using: &generator)
    }

    /// A UUIDv7 from a chosen random source (reproducible ids for load seeding).
    public static func make<R: RandomNumberGenerator>(at date: Date, using generator: inout R) -> String {
        let millis = UInt64(max(0, date.timeIntervalSince1970 * 1000))
        var bytes = [UInt8](repeating: 0, count: 16)
        for i in 0..<6 { bytes[i] = UInt8(truncatingIfNeeded: millis >> (8 * (5 - i))) }
        for i in 6..<16 { bytes[i] = UInt8.random(in: 0...255, using: &generator) }
        bytes[6] = (bytes[6] & 0x0F) | 0x70  // version 7
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 9562 variant
        return UUIDFormat.string(from: bytes)
    }

    /// Whether a string is a UUID in the canonical 8-4-4-4-12 form.
    public static func isWellFormed(_ id: String) -> Bool {
        UUID(uuidString: id) != nil
    }
}

/// Formats 16 bytes as a lowercase canonical UUID.
enum UUIDFormat {
    static func string(from bytes: some Collection<UInt8>) -> String {
        let hex = bytes.prefix(16).map { String(format: "%02x", $0) }.joined()
        let c = Array(hex)
        return String(c[0..<8]) + "-" + String(c[8..<12]) + "-" + String(c[12..<16]) + "-"
            + String(c[16..<20]) + "-" + String(c[20..<32])
    }
}
