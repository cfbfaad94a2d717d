public import Foundation

/// RFC 3339 timestamps with milliseconds, in UTC, as every Herald document writes them.
///
/// Written and read by hand for the years 1601 to 9999 (`Date.ISO8601FormatStyle` cost the
/// dispatcher 2% of its instructions per send, for two timestamps written and one read); anything
/// else goes to Foundation, whose calendar is Julian before 1582. The two agree on every instant
/// tried (TimestampTests).
public enum Timestamp {
    /// `2026-11-23T10:15:30.123Z`: the instant's millisecond, rounded down.
    public static func string(_ date: Date) -> String {
        // Whole seconds, then the millisecond of the fraction, rounded down: as Foundation does
        // (the product of the whole interval and 1000 rounds some instants up a millisecond).
        let interval = date.timeIntervalSince1970
        let seconds = interval.rounded(.down)
        guard seconds * 1000 >= minimumMilliseconds, seconds * 1000 < maximumMilliseconds else {
            return date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt))
        }
        let whole = Int(seconds) * 1000 + min(999, Int(((interval - seconds) * 1000).rounded(.down)))
        let (days, inDay) = whole.quotientAndRemainderRoundingDown(dividingBy: 86_400_000)
        let (year, month, day) = civil(fromDays: days)
        return String(unsafeUninitializedCapacity: 24) { utf8 in
            var at = 0
            func put(_ value: Int, digits: Int) {
                var value = value
                for index in stride(from: digits - 1, through: 0, by: -1) {
                    utf8[at + index] = UInt8(ascii: "0") + UInt8(value % 10)
                    value /= 10
                }
                at += digits
            }
            func put(_ byte: Unicode.Scalar) {
                utf8[at] = UInt8(ascii: byte)
                at += 1
            }
            put(year, digits: 4)
            put("-")
            put(month, digits: 2)
            put("-")
            put(day, digits: 2)
            put("T")
            put(inDay / 3_600_000, digits: 2)
            put(":")
            put(inDay / 60_000 % 60, digits: 2)
            put(":")
            put(inDay / 1000 % 60, digits: 2)
            put(".")
            put(inDay % 1000, digits: 3)
            put("Z")
            return at
        }
    }

    /// Parses what `string(_:)` writes (fractional seconds optional).
    public static func date(_ text: String) -> Date? {
        if let quick = text.utf8.withContiguousStorageIfAvailable(quickDate), let quick { return quick }
        if let d = try? Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt).parse(text) { return d }
        return try? Date.ISO8601FormatStyle(timeZone: .gmt).parse(text)
    }

    /// 1601-01-01T00:00:00.000Z and 10000-01-01T00:00:00.000Z, in milliseconds since 1970.
    private static let minimumMilliseconds = Double(days(fromCivil: 1601, 1, 1)) * 86_400_000
    private static let maximumMilliseconds = Double(days(fromCivil: 10000, 1, 1)) * 86_400_000

    /// `YYYY-MM-DDTHH:MM:SS.sssZ` or `YYYY-MM-DDTHH:MM:SSZ` with a real date and time; nil for
    /// anything else, which Foundation then reads.
    private static func quickDate(_ utf8: UnsafeBufferPointer<UInt8>) -> Date? {
        guard utf8.count == 24 || utf8.count == 20 else { return nil }
        func number(_ from: Int, _ count: Int) -> Int? {
            var value = 0
            for index in from..<(from + count) {
                let digit = utf8[index] &- UInt8(ascii: "0")
                guard digit < 10 else { return nil }
                value = value * 10 + Int(digit)
            }
            return value
        }
        let separators: [(Int, UInt8)] = [(4, 0x2D), (7, 0x2D), (10, 0x54), (13, 0x3A), (16, 0x3A), (utf8.count - 1, 0x5A)]
        guard separators.allSatisfy({ utf8[$0.0] == $0.1 }), utf8.count == 20 || utf8[19] == UInt8(ascii: "."),
            let year = number(0, 4), let month = number(5, 2), let day = number(8, 2),
            let hour = number(11, 2), let minute = number(14, 2), let second = number(17, 2),
            let millisecond = utf8.count == 24 ? number(20, 3) : 0,
            year >= 1601, (1...12).contains(month), day >= 1, hour < 24, minute < 60, second < 60
        else { return nil }
        let days = days(fromCivil: year, month, day)
        guard civil(fromDays: days) == (year, month, day) else { return nil }
        let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second
        return Date(timeIntervalSinceReferenceDate: Double(seconds - 978_307_200) + Double(millisecond) / 1000)
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's `days_from_civil`).
    private static func days(fromCivil year: Int, _ month: Int, _ day: Int) -> Int {
        let year = month <= 2 ? year - 1 : year
        let era = (year >= 0 ? year : year - 399) / 400
        let yearOfEra = year - era * 400
        let dayOfYear = (153 * (month > 2 ? month - 3 : month + 9) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The proleptic Gregorian date `days` after 1970-01-01 (`civil_from_days`).
    private static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let shifted = days + 719_468
        let era = (shifted >= 0 ? shifted : shifted - 146_096) / 146_097
        let dayOfEra = shifted - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36_524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let shiftedMonth = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * shiftedMonth + 2) / 5 + 1
        let month = shiftedMonth < 10 ? shiftedMonth + 3 : shiftedMonth - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

extension Int {
    fileprivate func quotientAndRemainderRoundingDown(dividingBy divisor: Int) -> (Int, Int) {
        let (quotient, remainder) = quotientAndRemainder(dividingBy: divisor)
        return remainder < 0 ? (quotient - 1, remainder + divisor) : (quotient, remainder)
    }
}
