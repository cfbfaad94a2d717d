import Foundation
import HeraldCore
import TestSupport
import Testing

/// Two tenants, every route that takes an id: another tenant's id is answered exactly like an
/// unknown one — same status, same body apart from the id itself and the request id and date.
@Suite struct TenantIsolationTests {
    /// The route, and the body to send (nil for a GET); `ID` is replaced by the id under test.
    static let routes: [(method: String, path: String, body: String?)] = [
        ("POST", "/v1/notifications", #"{"title":"t","body":"b","groupIds":["ID"]}"#),
        ("POST", "/v1/devices/ID/notifications", #"{"title":"t","body":"b"}"#),
        ("GET", "/v1/notifications/ID", nil),
        (
            "POST", "/deviceManagement/sendCustomNotificationToCompanyPortal",
            #"{"notificationTitle":"t","notificationBody":"b","groupsToNotify":["ID"]}"#
        ),
        (
            "POST", "/deviceManagement/managedDevices/ID/sendCustomNotificationToCompanyPortal",
            #"{"notificationTitle":"t","notificationBody":"b"}"#
        ),
    ]

    /// The answer with everything that may differ between two requests blanked out.
    static func normalized(_ answer: HTTPAnswer, id: String) -> String {
        var text = answer.text.replacingOccurrences(of: id, with: "ID")
        for pattern in [#""requestId":"[^"]*""#, #""request-id":"[^"]*""#, #""date":"[^"]*""#] {
            text = text.replacingOccurrences(of: pattern, with: "X", options: .regularExpression)
        }
        return "\(answer.status) \(answer.headers["Content-Type"] ?? "") \(text)"
    }

    @Test func everyRouteAnswersAnotherTenantsIdLikeAnUnknownOne() async throws {
        let harness = try await IngestHarness(publisher: RecordingPublisher())
        let tokenA = try await harness.token("a", "p-admin")
        let tokenB = try await harness.token("b", "p-admin")
        try await harness.run { client in
            // A notification of each tenant, to look up across.
            let ofA = try #require(
                try await client.send(.post, "/v1/devices/d-phone/notifications", token: tokenA, body: #"{"title":"t","body":"b"}"#).field(
                    "id"
                )
            )
            let ofB = try #require(
                try await client.send(.post, "/v1/devices/d-phone/notifications", token: tokenB, body: #"{"title":"t","body":"b"}"#).field(
                    "id"
                )
            )
            // (caller, a foreign id per kind of route, an id that exists nowhere)
            let cases: [(token: String, group: String, device: String, notification: String)] = [
                (tokenA, "g-only-in-b", "d-ios-only-in-b", ofB),
                (tokenB, "g-mid", "d-android-gms", ofA),
            ]
            var compared = 0
            for c in cases {
                for route in Self.routes {
                    let foreign = route.path.contains("devices") ? c.device : route.method == "GET" ? c.notification : c.group
                    let unknown = route.method == "GET" ? NotificationID.make() : "nowhere-\(compared)"
                    func call(_ id: String) async throws -> HTTPAnswer {
                        try await client.send(
                            route.method == "GET" ? .get : .post,
                            route.path.replacingOccurrences(of: "ID", with: id),
                            token: c.token,
                            body: route.body?.replacingOccurrences(of: "ID", with: id)
                        )
                    }
                    let a = try await call(foreign)
                    let b = try await call(unknown)
                    #expect(a.status == 404, "\(route.method) \(route.path) with another tenant's id: \(a.status)")
                    #expect(Self.normalized(a, id: foreign) == Self.normalized(b, id: unknown), "\(route.method) \(route.path)")
                    compared += 1
                }
            }
            #expect(compared == 10)
            // The ids of both tenants' own objects still work for their owners.
            #expect(try await client.send(.get, "/v1/notifications/\(ofA)", token: tokenA).status == 200)
            #expect(try await client.send(.get, "/v1/notifications/\(ofB)", token: tokenB).status == 200)
        }
    }
}
