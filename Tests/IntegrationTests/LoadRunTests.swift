import AMQP
import Foundation
import LoadApp
import NIOCore
import Testing

extension BrokerTests {
    @Suite struct LoadRunTests {
        /// A short herald-load run against ingest and a dispatcher as processes: every accepted
        /// send's envelopes arrive, and nothing else does. Never a timing.
        @Test func aShortLoadRunAccountsForEveryEnvelope() async throws {
            try await Broker.purgeAll()
            let stack = try LocalStack()
            defer { stack.stop() }
            let shape = ["--tenants", "4", "--users", "40", "--groups", "6", "--seed", "7"]
            let seeded = try await stack.tool("herald-load", ["seed"] + shape)
            #expect(seeded.status == 0)
            let ingest = try await stack.startIngest()
            let dispatcher = try stack.startDispatcher()

            let run = try await stack.tool(
                "herald-load",
                ["run", "--rate", "40", "--count", "120", "--group-share", "0.25", "--settle", "60", "--json"] + shape
            )
            let report = try LoadRunOutcome(run.output)
            #expect(run.status == 0)
            #expect(report.sends == 120)
            #expect(report.accepted == 120)
            #expect(report.errors.isEmpty)
            #expect(report.envelopes.expected > 120, "group sends fan out to several devices")
            #expect(report.envelopes.received == report.envelopes.expected)
            #expect(report.envelopes.lost == 0)
            #expect(report.envelopes.unexpected == 0)
            #expect(report.envelopes.duplicates == 0)
            #expect(report.envelopes.wrongQueue == 0)
            #expect(report.queuesAtEnd?[Topology.requests] == 0)
            #expect(report.queuesAtEnd?[Topology.dead] == 0)

            // The counters moved with the traffic, on both services' /metrics.
            let ingestMetrics = try await metrics(port: stack.port)
            #expect(ingestMetrics[#"herald_ingest_requests_total{outcome="accepted"}"#] == 120)
            #expect((ingestMetrics["herald_ingest_publish_confirm_seconds_count"] ?? 0) >= 120)
            let address = try #require(dispatcher.log.firstMatch(of: /"http\.address":"[^"]*:(\d+)"/)?.1)
            let dispatcherMetrics = try await metrics(port: try #require(Int(address)))
            #expect(dispatcherMetrics[#"herald_dispatcher_requests_total{outcome="dispatched"}"#] == 120)
            let envelopes =
                (dispatcherMetrics[#"herald_dispatcher_envelopes_total{platform="ios"}"#] ?? 0)
                + (dispatcherMetrics[#"herald_dispatcher_envelopes_total{platform="android"}"#] ?? 0)
            #expect(Int(envelopes) == report.envelopes.expected)
            #expect(dispatcherMetrics[#"herald_queue_messages{queue="herald.requests"}"#] != nil, "the backlog is sampled from the broker")
            #expect(dispatcherMetrics[#"herald_queue_messages{queue="herald.dead"}"#] == 0)

            // No title, body, push token or bearer token in either log (the texts herald-load sends).
            for log in [ingest.log, dispatcher.log] {
                #expect(log.contains("notification accepted") || log.contains("notification dispatched"))
                for secret in ["Maintenance tonight", "Badge renewal", "Company Portal update", "Vă rugăm", "fcm-", "Bearer", "eyJ"] {
                    #expect(!log.contains(secret), "a log holds \(secret)")
                }
            }
        }

        /// With no dispatcher running, the same run must fail and say which envelopes are missing.
        @Test func aLoadRunWithoutADispatcherReportsTheEnvelopesAsLost() async throws {
            try await Broker.purgeAll()
            let stack = try LocalStack()
            defer { stack.stop() }
            let shape = ["--tenants", "2", "--users", "20", "--groups", "4", "--tenant-prefix", "nodispatch-"]
            #expect(try await stack.tool("herald-load", ["seed"] + shape).status == 0)
            try await stack.startIngest()

            let run = try await stack.tool("herald-load", ["run", "--rate", "20", "--count", "20", "--settle", "2", "--json"] + shape)
            let report = try LoadRunOutcome(run.output)
            #expect(run.status == 1)
            #expect(report.accepted == 20)
            #expect(report.envelopes.lost == report.envelopes.expected)
            #expect(report.envelopes.lost >= 20)
            #expect(Array(report.incompleteByStatus.keys) == ["accepted"], "ingest says they were never dispatched")
            #expect(report.queuesAtEnd?[Topology.requests] == 20, "the broker's own count: every accepted send still waits")
            #expect(try await Broker.admin().counts(queue: Topology.requests).messages == 20)
            try await Broker.purgeAll()
        }
    }
}
