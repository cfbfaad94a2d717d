import Foundation
import HeraldCore
import IngestCore
import Testing

/// A send's body of the usual shape is read without `JSONDecoder` (`JSONCursor.members`); what
/// that reader takes must be exactly what the decoder makes of it, and everything else is left to
/// the decoder, whose answers `RequestRuleTests` pins.
@Suite struct QuickBodyReaderTests {
    struct Decoded: Decodable, Equatable {
        var title: String
        var body: String
        var groupIds: [String]
    }

    static let usual: [String] = [
        #"{"title":"Hi","body":"There","groupIds":["g-top"]}"#,
        #" { "groupIds" : [ "a" , "b" ] , "body" : "B" , "title" : "T" } "#,
        #"{"title":"Quote \" backslash \\ slash \/ tab \t nl \n u \u00e9 pair \ud83d\ude00","body":"b","groupIds":[]}"#,
        #"{"title":"Ünïcödé 日本語 👩‍👩‍👧","body":"\#(String(repeating: "ab", count: 250))","groupIds":["x\u0000y"]}"#,
        #"{"title":"","body":"","groupIds":[""]}"#,
    ]

    static let unusual: [String] = [
        #"{"title":"t","body":"b","groupIds":["g"],"priority":"high"}"#,
        #"{"title":"t","title":"u","body":"b","groupIds":["g"]}"#,
        #"{"title":"t","body":5,"groupIds":["g"]}"#,
        #"{"title":null,"body":"b","groupIds":["g"]}"#,
        #"{"title":"t","groupIds":["g"]}"#,
        #"{"title":"t","body":"b"}"#,
        #"{"title":"t","body":"b","groupIds":[1]}"#,
        #"{"title":"t","body":"b","groupIds":"g"}"#,
        #"{"title":"t","body":"b","groupIds":["g"]} x"#,
        #"{"title":"t","body":"b","groupIds":["g"]"#,
        #"{"title":"a\u0007b","body":"raw "#,
        "{\"title\":\"raw\u{1}control\",\"body\":\"b\",\"groupIds\":[]}",
        #"{"title":"\udc00","body":"b","groupIds":[]}"#,
        #"{"title":"\x","body":"b","groupIds":[]}"#,
        #"["title"]"#, "", "{}", "\u{FEFF}{\"title\":\"t\",\"body\":\"b\",\"groupIds\":[]}",
    ]

    static func quick(_ data: Data) -> Decoded? {
        JSONCursor.read(data) { cursor in
            cursor.members(["title", "body"], list: "groupIds").map {
                Decoded(title: $0.strings[0], body: $0.strings[1], groupIds: $0.list)
            }
        }
    }

    @Test(arguments: usual)
    func aBodyOfTheUsualShapeIsReadAsTheDecoderReadsIt(_ text: String) throws {
        let data = Data(text.utf8)
        let quick = try #require(Self.quick(data), "read without the decoder")
        #expect(quick == (try JSONDecoder().decode(Decoded.self, from: data)))
    }

    @Test(arguments: unusual)
    func anythingElseIsLeftToTheDecoder(_ text: String) {
        #expect(Self.quick(Data(text.utf8)) == nil)
    }

    @Test func invalidUTF8IsLeftToTheDecoder() throws {
        var bytes = Array(#"{"title":"tX","body":"b","groupIds":[]}"#.utf8)
        bytes[try #require(bytes.firstIndex(of: UInt8(ascii: "X")))] = 0xFF
        #expect(Self.quick(Data(bytes)) == nil)
        // Three bytes that decode to one U+FFFD (three bytes too): still refused.
        bytes = Array(#"{"title":"t","body":"b","groupIds":[]}"#.utf8)
        bytes.replaceSubrange(10..<11, with: [0xF0, 0x9F, 0x98])
        #expect(Self.quick(Data(bytes)) == nil)
    }
}
