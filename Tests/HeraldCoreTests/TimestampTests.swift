import Foundation
import Testing

@testable import HeraldCore

/// Herald writes and reads its timestamps by hand; Foundation's ISO 8601 style is the reference.
@Suite struct TimestampTests {
    static let style = Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: .gmt)

    @Test func theHandWrittenTimestampIsFoundationsOnEveryInstantTried() throws {
        // 20,000 milliseconds spread over 1600 to 2400 (a fixed walk, so a failure repeats), and the
        // edges of days, years and the range written by hand.
        let start: Int64 = -11_676_096_000_000
        let span: Int64 = 25_245_561_600_000
        var instants = (0..<Int64(20_000)).map { Double(start + ($0 * 7_919_891_723_417) % span) / 1000 }
        instants += [0, -0.001, 1_800_000_000.25, 951_782_400, 951_868_799.999, 4_107_542_399.999, -62_135_596_800, 253_402_300_799.999]
        // Below a millisecond, rounded down as Foundation does.
        instants += [1_800_000_000.9999, 1_800_000_000.0004, -0.0004, 1_700_000_000.123_999]
        for instant in instants {
            let date = Date(timeIntervalSince1970: instant)
            let written = Timestamp.string(date)
            #expect(written == date.formatted(Self.style), "\(instant)")
            #expect(Timestamp.date(written) == (try Self.style.parse(written)), "\(written)")
        }
    }

    @Test func readsOnlyRealDatesAndLeavesTheRestToFoundation() {
        #expect(Timestamp.date("2027-01-15T08:00:00.250Z") == Date(timeIntervalSince1970: 1_800_000_000.25))
        #expect(Timestamp.date("2027-01-15T08:00:00Z") == Date(timeIntervalSince1970: 1_800_000_000))
        for text in [
            "2027-02-29T08:00:00.000Z", "2027-13-01T08:00:00.000Z", "2027-01-15T24:00:00.000Z", "2027-01-15 08:00:00.000Z", "yesterday", "",
        ] {
            #expect(
                Timestamp.date(text) == (try? Self.style.parse(text)) ?? (try? Date.ISO8601FormatStyle(timeZone: .gmt).parse(text)),
                "\(text)"
            )
        }
        #expect(Timestamp.date("2028-02-29T08:00:00.000Z") != nil)
    }
}
