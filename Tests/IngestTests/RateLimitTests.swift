import Foundation
import IngestCore
import TestSupport
import Testing

/// `HERALD_INGEST_RATE`: a token bucket per caller at ingest, answered 429 with `Retry-After`.
@Suite struct RateLimitTests {
    @Test func aCallerGetsItsBurstThenItsRateAndOthersAreUntouched() {
        let limiter = CallerRateLimiter(limit: CallerRateLimit(perSecond: 0.5, burst: 3))
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        for _ in 0..<3 { #expect(limiter.admit(tenantId: "a", principalId: "p", now: start) == nil) }
        #expect(limiter.admit(tenantId: "a", principalId: "p", now: start) == 2, "one token comes back every 2 s")
        #expect(limiter.admit(tenantId: "a", principalId: "p", now: start.addingTimeInterval(1.5)) == 1)
        #expect(limiter.admit(tenantId: "a", principalId: "p", now: start.addingTimeInterval(2.1)) == nil)
        #expect(limiter.admit(tenantId: "a", principalId: "p", now: start.addingTimeInterval(2.2)) == 2)
        #expect(limiter.admit(tenantId: "a", principalId: "q", now: start) == nil, "another principal has its own bucket")
        #expect(limiter.admit(tenantId: "b", principalId: "p", now: start) == nil, "the same principal id in another tenant too")
        // A long pause refills the burst, not more.
        let later = start.addingTimeInterval(3600)
        for _ in 0..<3 { #expect(limiter.admit(tenantId: "a", principalId: "p", now: later) == nil) }
        #expect(limiter.admit(tenantId: "a", principalId: "p", now: later) != nil)
    }

    @Test func idleCallersAreForgottenWithoutChangingAnAnswer() {
        let limiter = CallerRateLimiter(limit: CallerRateLimit(perSecond: 1, burst: 1))
        let start = Date(timeIntervalSince1970: 1_800_000_000)
        #expect(limiter.admit(tenantId: "a", principalId: "busy", now: start) == nil)
        for i in 0...CallerRateLimiter.pruneAbove {
            _ = limiter.admit(tenantId: "t", principalId: "p\(i)", now: start.addingTimeInterval(-10))
        }
        #expect(limiter.admit(tenantId: "a", principalId: "busy", now: start) == 1, "a caller still over its rate stays so")
    }

    @Test func overItsRateACallerGets429WithRetryAfterInEachRoutesShapeAndNothingIsPublished() async throws {
        let publisher = RecordingPublisher()
        let harness = try await IngestHarness(publisher: publisher, rateLimit: CallerRateLimit(perSecond: 0.01, burst: 2))
        let admin = try await harness.token()
        let other = try await harness.token("a", "p-sender-only")
        try await harness.run { client in
            let send = #"{"title":"Hi","body":"There","groupIds":["g-top"]}"#
            for _ in 0..<2 { #expect(try await client.send(.post, "/v1/notifications", token: admin, body: send).status == 202) }
            let refused = try await client.send(.post, "/v1/notifications", token: admin, body: send)
            #expect(refused.status == 429)
            #expect(refused.headers["Content-Type"] == "application/problem+json")
            #expect(refused.field("type") == "urn:herald:problem:rate_limited")
            #expect(Int(refused.headers["Retry-After"] ?? "") ?? 0 >= 1)
            let graph = try await client.send(
                .post,
                "/deviceManagement/managedDevices/d-phone/sendCustomNotificationToCompanyPortal",
                token: admin,
                body: #"{"notificationTitle":"Hi","notificationBody":"There"}"#
            )
            #expect(graph.status == 429)
            #expect(graph.text.contains(#""code":"TooManyRequests""#), "\(graph.text)")
            #expect(graph.headers["Retry-After"] != nil)
            #expect(try await client.send(.post, "/v1/notifications", token: other, body: send).status == 202, "another caller goes on")
        }
        #expect(publisher.published.count == 3)
    }
}
