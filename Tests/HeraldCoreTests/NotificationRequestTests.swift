import Foundation
import HeraldCore
import Testing

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
        #expect(String(decoding: try request.encoded(), as: UTF8.self) == String(decoding: try HeraldJSON.encoder.encode(request), as: UTF8.self))
        var device = request
        device.target = .device("d-1")
        #expect(String(decoding: try device.encoded(), as: UTF8.self) == String(decoding: try HeraldJSON.encoder.encode(device), as: UTF8.self))
    }
}
