import Foundation
import Testing

@testable import HeraldCore

/// The broker message ingest writes by hand reads back as the request it came from, and is the
/// document `HeraldJSON.encoder` writes for it.
@Suite struct NotificationRequestTests {
    static let texts = [
        "Maintenance tonight", "", "Quote \" and backslash \\ and slash /", "Lines\nand\r\nreturns\tand tab",
        "\u{1}\u{1F} low controls", "Ünïcödé 日本語 👩‍👩‍👧 \u{2028}\u{2029} \u{7F}\u{9F}", String(repeating: "ab", count: 250),
    ]

    @Test(arguments: texts)
    func aWrittenRequestReadsBackTheSame(_ text: String) throws {
        for target in [NotificationTarget.device("dev-\(text)"), .groups(["g1", text, "g/3"]), .groups([])] {
            let request = NotificationRequest(
                id: "n-\(text)",
                tenantId: "t\"\(text)",
                principalId: text,
                target: target,
                title: text,
                body: text + text,
                acceptedAt: Date(timeIntervalSince1970: 1_800_000_000.25)
            )
            let data = try request.encoded()
            #expect(try NotificationRequest.decode(data) == request)
            #expect(try JSONSerialization.jsonObject(with: data) is [String: Any])
        }
    }

    @Test func theDocumentIsTheOneTheEncoderWrites() throws {
        let request = NotificationRequest(
            id: "0190a1b2-n",
            tenantId: "contoso",
            principalId: "upstream/app",
            target: .groups(["g-1", "g-2"]),
            title: "Title \"quoted\"",
            body: "Body\nline two \\ done",
            acceptedAt: Date(timeIntervalSince1970: 1_800_000_000.5)
        )
        #expect(
            String(decoding: try request.encoded(), as: UTF8.self)
                == String(decoding: try HeraldJSON.encoder.encode(request), as: UTF8.self)
        )
        var device = request
        device.target = .device("d-1")
        #expect(
            String(decoding: try device.encoded(), as: UTF8.self) == String(decoding: try HeraldJSON.encoder.encode(device), as: UTF8.self)
        )
        device.route = .graph
        device.tokenId = "jti \"1\""
        #expect(
            String(decoding: try device.encoded(), as: UTF8.self) == String(decoding: try HeraldJSON.encoder.encode(device), as: UTF8.self)
        )
    }

    /// The dispatcher's own reader takes what the encoder writes, and agrees with `JSONDecoder` on
    /// every message it takes; what it leaves (nil) goes to `JSONDecoder`.
    @Test(arguments: texts)
    func theQuickReaderAgreesWithTheDecoder(_ text: String) throws {
        for target in [NotificationTarget.device("dev-\(text)"), .groups(["g1", text]), .groups([])] {
            let request = NotificationRequest(
                id: "n-\(text)",
                tenantId: "t",
                principalId: text,
                target: target,
                title: text,
                body: text,
                acceptedAt: Date(timeIntervalSince1970: 1_800_000_000.25)
            )
            #expect(RequestReader.read(try request.encoded()) == request, "what ingest writes is read without JSONDecoder")
            #expect(RequestReader.read(try HeraldJSON.encoder.encode(request)) == request)
        }
    }

    @Test func theQuickReaderLeavesWhatItIsNotSureOfToTheDecoder() throws {
        let base =
            #"{"acceptedAt":"2027-01-15T08:00:00.250Z","body":"B","id":"n1","principalId":"p","schemaVersion":1,"target":{"deviceId":"d","kind":"device"},"tenantId":"t","title":"T"}"#
        let decoded = try HeraldJSON.decoder.decode(NotificationRequest.self, from: Data(base.utf8))
        #expect(RequestReader.read(Data(base.utf8)) == decoded)
        // Spaces, escapes and another key order are still the usual shape.
        let spaced =
            #" { "title" : "T", "body":"\u0042", "id":"n1" ,"tenantId":"t","principalId":"p","schemaVersion":1,"acceptedAt":"2027-01-15T08:00:00.250Z","target":{ "kind":"device","deviceId":"d" } } "#
        #expect(RequestReader.read(Data(spaced.utf8)) == decoded)
        let surrogate = base.replacingOccurrences(of: #""body":"B""#, with: #""body":"\ud83d\ude00 \/""#)
        #expect(RequestReader.read(Data(surrogate.utf8))?.body == "😀 /")
        let variants: [(String, String)] = [
            ("unknown key", base.replacingOccurrences(of: #""id":"n1""#, with: #""id":"n1","extra":true"#)),
            ("repeated key", base.replacingOccurrences(of: #""id":"n1""#, with: #""id":"n1","id":"n2""#)),
            ("missing key", base.replacingOccurrences(of: #""principalId":"p","#, with: "")),
            ("fraction", base.replacingOccurrences(of: #""schemaVersion":1"#, with: #""schemaVersion":1.0"#)),
            ("negative", base.replacingOccurrences(of: #""schemaVersion":1"#, with: #""schemaVersion":-1"#)),
            ("leading zero", base.replacingOccurrences(of: #""schemaVersion":1"#, with: #""schemaVersion":01"#)),
            ("huge number", base.replacingOccurrences(of: #""schemaVersion":1"#, with: #""schemaVersion":12345678901234"#)),
            ("string number", base.replacingOccurrences(of: #""schemaVersion":1"#, with: #""schemaVersion":"1""#)),
            ("raw control", base.replacingOccurrences(of: #""body":"B""#, with: "\"body\":\"a\u{1}b\"")),
            ("lone surrogate", base.replacingOccurrences(of: #""body":"B""#, with: #""body":"\udc00""#)),
            ("bad escape", base.replacingOccurrences(of: #""body":"B""#, with: #""body":"\x""#)),
            ("both targets", base.replacingOccurrences(of: #""kind":"device""#, with: #""kind":"device","groupIds":[]"#)),
            ("group kind with a device", base.replacingOccurrences(of: #""kind":"device""#, with: #""kind":"group""#)),
            ("bad date", base.replacingOccurrences(of: "2027-01-15T08", with: "yesterday")),
            ("trailing", base + "x"), ("cut", String(base.dropLast())), ("array", "[" + base + "]"), ("empty", ""),
        ]
        for (name, variant) in variants {
            #expect(RequestReader.read(Data(variant.utf8)) == nil, "\(name)")
            // And NotificationRequest.decode answers what JSONDecoder answers for it.
            let viaDecoder = (try? HeraldJSON.decoder.decode(NotificationRequest.self, from: Data(variant.utf8)))
                .flatMap { $0.schemaVersion == NotificationRequest.currentSchemaVersion ? $0 : nil }
            #expect((try? NotificationRequest.decode(Data(variant.utf8))) == viaDecoder, "\(name)")
        }
        var invalidUTF8 = Array(base.utf8)
        invalidUTF8[try #require(invalidUTF8.firstIndex(of: UInt8(ascii: "B")))] = 0xFF
        #expect(RequestReader.read(Data(invalidUTF8)) == nil, "invalid UTF-8")
    }
}
