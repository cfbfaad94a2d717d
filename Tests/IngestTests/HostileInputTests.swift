import Foundation
import HeraldCore
import LoadApp
import TestSupport
import Testing

/// Bodies no client should send: every one gets a documented 4xx (or a 202 when it happens to be
/// valid), never a 5xx or a crash. The number of inputs is recorded in RELIABILITY.md.
@Suite struct HostileInputTests {
    static let documented: Set<Int> = [202, 204, 400, 404, 409, 413, 415, 422]
    static let validGroup = #"{"title":"Hello","body":"There","groupIds":["g-top","g-mid"]}"#
    static let validDevice = #"{"title":"Hello","body":"There"}"#

    /// Hand-written hostile bodies, each for both send routes of each family.
    static var crafted: [(name: String, bytes: [UInt8])] {
        let deep = String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000)
        let deepObject = String(repeating: #"{"a":"#, count: 20_000) + "1" + String(repeating: "}", count: 20_000)
        var cases: [(String, [UInt8])] = [
            ("empty", []),
            ("huge number", Array(#"{"title":1e999999,"body":"b","groupIds":["g-top"]}"#.utf8)),
            ("huge integer", Array(#"{"title":"t","body":"b","groupIds":[123456789012345678901234567890123456789]}"#.utf8)),
            ("negative zero and exponents", Array(#"{"title":-0.0e-99999,"body":"b"}"#.utf8)),
            ("deeply nested array", Array(#"{"title":"t","body":"b","groupIds":\#(deep)}"#.utf8)),
            ("deeply nested object", Array(deepObject.utf8)),
            ("invalid UTF-8", Array(#"{"title":""#.utf8) + [0xC3, 0x28, 0xFF, 0xFE] + Array(#"","body":"b","groupIds":["g-top"]}"#.utf8)),
            ("overlong UTF-8", Array(#"{"title":""#.utf8) + [0xC0, 0xAF] + Array(#"","body":"b"}"#.utf8)),
            ("raw NUL in a string", Array(#"{"title":"a"#.utf8) + [0] + Array(#"b","body":"b","groupIds":["g-top"]}"#.utf8)),
            ("escaped NUL", Array(#"{"title":"a\u0000b","body":"b","groupIds":["g-top"]}"#.utf8)),
            ("NUL outside strings", Array(#"{"title":"a","body":"b"}"#.utf8) + [0]),
            ("lone surrogate", Array(#"{"title":"\ud800","body":"b","groupIds":["g-top"]}"#.utf8)),
            ("duplicate keys", Array(#"{"title":"a","title":"b","body":"b","groupIds":["g-top"]}"#.utf8)),
            ("duplicate keys, one wrong type", Array(#"{"title":"a","title":5,"body":"b","groupIds":["g-top"]}"#.utf8)),
            ("byte order mark", [0xEF, 0xBB, 0xBF] + Array(validGroup.utf8)),
            ("trailing garbage", Array((validGroup + "}}}").utf8)),
            ("two documents", Array((validGroup + validGroup).utf8)),
            (
                "10,000 group ids",
                Array(#"{"title":"t","body":"b","groupIds":[\#((0..<10_000).map { "\"g\($0)\"" }.joined(separator: ","))]}"#.utf8)
            ),
            ("a 60 KB title", Array(#"{"title":"\#(String(repeating: "é", count: 30_000))","body":"b","groupIds":["g-top"]}"#.utf8)),
            ("10 MB body", Array(#"{"title":"t","body":"\#(String(repeating: "x", count: 10 * 1024 * 1024))","groupIds":["g-top"]}"#.utf8)),
            ("only whitespace", Array("   \n\t ".utf8)),
            ("a string", Array(#""hello""#.utf8)),
            ("null", Array("null".utf8)),
            ("numbers as keys", Array(#"{1:"t"}"#.utf8)),
            ("unterminated string", Array(#"{"title":"t"#.utf8)),
            ("combining marks", Array(#"{"title":"e\#(String(repeating: "\u{301}", count: 5000))","body":"b","groupIds":["g-top"]}"#.utf8)),
        ]
        cases.append(("object instead of ids", Array(#"{"title":"t","body":"b","groupIds":{"g-top":true}}"#.utf8)))
        return cases
    }

    /// Seeded random mutations of valid bodies: bytes flipped, inserted, deleted, duplicated.
    static func mutations(of body: String, count: Int, seed: UInt64) -> [[UInt8]] {
        var random = SplitMix64(seed: seed)
        let interesting: [[UInt8]] = [
            [0], [0xFF], [0xC3], Array("\"".utf8), Array("\\".utf8), Array("{".utf8), Array("]".utf8),
            Array("1e999".utf8), Array("null".utf8), Array(",".utf8), Array("\\u0000".utf8),
        ]
        return (0..<count).map { _ in
            var bytes = Array(body.utf8)
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                let at = Int.random(in: 0..<max(1, bytes.count), using: &random)
                switch Int.random(in: 0..<5, using: &random) {
                case 0 where !bytes.isEmpty: bytes[at] = UInt8.random(in: 0...255, using: &random)
                case 1: bytes.insert(contentsOf: interesting.randomElement(using: &random)!, at: min(at, bytes.count))
                case 2 where !bytes.isEmpty: bytes.remove(at: at)
                case 3: bytes.insert(contentsOf: bytes[at..<min(bytes.count, at + 8)], at: at)
                default: bytes = Array(bytes.prefix(at))
                }
            }
            return bytes
        }
    }

    @Test func hostileBodiesGetADocumented4xxNeverA5xx() async throws {
        let harness = try await IngestHarness(publisher: RecordingPublisher())
        let token = try await harness.token()
        let routes: [(path: String, valid: String)] = [
            ("/v1/notifications", Self.validGroup), ("/v1/devices/d-phone/notifications", Self.validDevice),
            (
                "/deviceManagement/sendCustomNotificationToCompanyPortal",
                #"{"notificationTitle":"Hi","notificationBody":"b","groupsToNotify":["g-top"]}"#
            ),
            (
                "/deviceManagement/managedDevices/d-phone/sendCustomNotificationToCompanyPortal",
                #"{"notificationTitle":"Hi","notificationBody":"b"}"#
            ),
        ]
        let tried = try await harness.run { client in
            var tried = 0
            for (index, route) in routes.enumerated() {
                let inputs = Self.crafted.map(\.bytes) + Self.mutations(of: route.valid, count: 600, seed: UInt64(index + 1))
                for bytes in inputs {
                    let answer = try await client.send(.post, route.path, token: token, bytes: bytes)
                    tried += 1
                    #expect(
                        Self.documented.contains(answer.status),
                        "\(route.path) answered \(answer.status) to \(String(decoding: bytes.prefix(120), as: UTF8.self))"
                    )
                    if answer.status >= 400 {
                        #expect(answer.headers["Content-Type"]?.contains("json") == true)
                    }
                }
            }
            return tried
        }
        #expect(tried == 4 * (Self.crafted.count + 600))
        print("hostile input: \(tried) bodies tried, none answered 5xx")
    }

    @Test func hostileHeadersAndPathsGetA4xx() async throws {
        let harness = try await IngestHarness(publisher: RecordingPublisher())
        let token = try await harness.token()
        try await harness.run { client in
            let paths = [
                "/v1/devices/%00/notifications", "/v1/devices/\(String(repeating: "d", count: 5000))/notifications",
                "/v1/devices/..%2F..%2Fetc/notifications", "/v1/notifications/%FF%FE", "/v1/notifications/'%20OR%201=1--",
                "/v1/devices/d-phone%0A/notifications",
            ]
            for path in paths {
                let answer = try await client.send(.post, path, token: token, body: Self.validDevice)
                #expect(answer.status >= 400, "\(path): \(answer.status)")
                #expect(answer.status < 500, "\(path): \(answer.status)")
                let read = try await client.send(.get, path, token: token)
                #expect(read.status >= 400, "GET \(path): \(read.status)")
                #expect(read.status < 500, "GET \(path): \(read.status)")
            }
            for contentType in [
                "text/plain", "application/json; charset=utf-16", "application/x-www-form-urlencoded", "", "application/json;;;",
            ] {
                let answer = try await client.send(
                    .post,
                    "/v1/devices/d-phone/notifications",
                    token: token,
                    body: Self.validDevice,
                    contentType: contentType
                )
                #expect(Self.documented.contains(answer.status), "content type \(contentType): \(answer.status)")
            }
            let hugeToken = try await client.send(
                .post,
                "/v1/devices/d-phone/notifications",
                token: String(repeating: "a.", count: 4000),
                body: Self.validDevice
            )
            #expect(hugeToken.status == 401)
            let hugeKey = try await client.send(
                .post,
                "/v1/devices/d-phone/notifications",
                token: token,
                body: Self.validDevice,
                headers: ["Idempotency-Key": String(repeating: "k", count: 5000)]
            )
            #expect(hugeKey.status < 500, "a 5,000-character Idempotency-Key: \(hugeKey.status)")
        }
    }
}
