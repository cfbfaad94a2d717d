import Auth
import Foundation
import HeraldCore
import TestSupport
import Testing

/// Every accepted send records who sent it (principal and the token's `jti`), through which route,
/// and what it named; the status record shows them to the tenant, and the broker message carries
/// them so the dispatcher can write them if ingest's own write failed.
@Suite struct AuditTests {
    /// The `jti` of a compact JWT, read without verifying (the test minted it).
    static func jti(of token: String) throws -> String {
        let payload = String(token.split(separator: ".")[1])
        var base64 = payload.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while base64.count % 4 != 0 { base64 += "=" }
        let object = try JSONSerialization.jsonObject(with: try #require(Data(base64Encoded: base64))) as? [String: Any]
        return try #require(object?["jti"] as? String)
    }

    @Test func theStatusRecordShowsTheInitiatorAndTargetsOfEachRoute() async throws {
        let publisher = RecordingPublisher()
        let harness = try await IngestHarness(publisher: publisher)
        let token = try await harness.token()
        let tokenId = try Self.jti(of: token)
        try await harness.run { client in
            let groups = try await client.send(
                .post,
                "/v1/notifications",
                token: token,
                body: #"{"title":"T","body":"B","groupIds":["g-top"]}"#
            )
            #expect(groups.status == 202)
            let graph = try await client.send(
                .post,
                "/deviceManagement/managedDevices/d-phone/sendCustomNotificationToCompanyPortal",
                token: token,
                body: #"{"notificationTitle":"T","notificationBody":"B"}"#
            )
            #expect(graph.status == 204)
            let ids = publisher.published.map(\.id)
            #expect(ids.count == 2)

            let first = try await client.send(.get, "/v1/notifications/\(ids[0])", token: token)
            let record = try #require(try JSONSerialization.jsonObject(with: Data(first.text.utf8)) as? [String: Any])
            #expect(record["initiator"] as? [String: String] == ["principalId": "p-admin", "tokenId": tokenId, "route": "api"])
            #expect((record["targets"] as? [String: Any])?["groupIds"] as? [String] == ["g-top"])
            #expect(!first.text.contains("\"T\"") && !first.text.contains("\"B\""), "never the title or body")

            let second = try await client.send(.get, "/v1/notifications/\(ids[1])", token: token)
            let device = try #require(try JSONSerialization.jsonObject(with: Data(second.text.utf8)) as? [String: Any])
            #expect((device["initiator"] as? [String: String])?["route"] == "graph")
            #expect((device["targets"] as? [String: Any])?["deviceId"] as? String == "d-phone")

            // Another tenant's caller still cannot read it.
            let other = try await harness.token("b", "p-admin")
            #expect(try await client.send(.get, "/v1/notifications/\(ids[0])", token: other).status == 404)
        }
        // What the dispatcher gets carries the same, for when ingest's status write failed.
        #expect(publisher.published.map(\.route) == [.api, .graph])
        #expect(publisher.published.allSatisfy { $0.tokenId == tokenId && $0.principalId == "p-admin" })
    }

    @Test func theRequestMessageCarriesRouteAndTokenAndOlderDispatchersStillReadIt() throws {
        let request = NotificationRequest(
            id: "n-1",
            tenantId: "a",
            principalId: "p",
            target: .groups(["g"]),
            title: "t",
            body: "b",
            acceptedAt: Date(timeIntervalSince1970: 1_800_000_000),
            route: .graph,
            tokenId: "jti-\u{1F600}\"x"
        )
        let data = try request.encoded()
        #expect(try NotificationRequest.decode(data) == request)
        // The same with JSONDecoder, which the fast reader falls back to.
        #expect(try HeraldJSON.decoder.decode(NotificationRequest.self, from: data) == request)
        // A route a later version adds is left out rather than refused: the send still goes out.
        let later = String(decoding: data, as: UTF8.self).replacingOccurrences(of: #""route":"graph""#, with: #""route":"carrier-pigeon""#)
        let read = try NotificationRequest.decode(Data(later.utf8))
        #expect(read.route == nil && read.tokenId == request.tokenId && read.title == "t")
        // And a message from before the audit trail has neither.
        var old = request
        old.route = nil
        old.tokenId = nil
        let oldData = try old.encoded()
        #expect(!String(decoding: oldData, as: UTF8.self).contains("route"))
        #expect(try NotificationRequest.decode(oldData) == old)
    }
}
