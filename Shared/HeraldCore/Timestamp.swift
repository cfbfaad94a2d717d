public import Foundation

/// RFC 3339 timestamps with milliseconds, in UTC, as every Herald document writes them.
public enum Timestamp {
    /// `2026-11-23T10:15:30.123Z`.
    public static func string(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
    }

    /// Parses what `string(_:)` writes (fractional seconds optional).
    public static func date(_ text: String) -> Date? {
        if let d = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt).parse(text) { return d }
        return try? Date.ISO8601FormatStyle(timeZone: .gmt).parse(text)
    }
}
