import AMQP
import Foundation
import Testing

/// The numbers `herald-load run --json` prints that the tests read.
private struct RunReport: Decodable {
    struct Envelopes: Decodable { var expected, received, lost, unexpected, duplicates, wrongQueue: Int }
    var sends: Int
    var accepted: Int
    var errors: [String: Int]
    var envelopes: Envelopes
    var incompleteByStatus: [String: Int]
}

extension BrokerTests {
    /// A short herald-load run against ingest and a dispatcher as processes: every accepted
    /// send's envelopes arrive, and nothing else does. Never a timing.
    @Test func aShortLoadRunAccountsForEveryEnvelope() async throws {
        try await Broker.purgeAll()
        let stack = try LocalStack()
        defer { stack.stop() }
        let shape = ["--tenants", "4", "--users", "40", "--groups", "6", "--seed", "7"]
        let seeded = try await stack.tool("herald-load", ["seed"] + shape)
        #expect(seeded.status == 0)
        try await stack.startIngest()
        try stack.startDispatcher()

        let run = try await stack.tool("herald-load", ["run", "--rate", "40", "--count", "120", "--group-share", "0.25", "--settle", "60", "--json"] + shape)
        let report = try JSONDecoder().decode(RunReport.self, from: Data(run.output.utf8))
        #expect(run.status == 0)
        #expect(report.sends == 120 && report.accepted == 120 && report.errors.isEmpty)
        #expect(report.envelopes.expected > 120, "group sends fan out to several devices")
        #expect(report.envelopes.received == report.envelopes.expected)
        #expect(report.envelopes.lost == 0 && report.envelopes.unexpected == 0)
        #expect(report.envelopes.duplicates == 0 && report.envelopes.wrongQueue == 0)
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
        let report = try JSONDecoder().decode(RunReport.self, from: Data(run.output.utf8))
        #expect(run.status == 1)
        #expect(report.accepted == 20)
        #expect(report.envelopes.lost == report.envelopes.expected && report.envelopes.lost >= 20)
        #expect(Array(report.incompleteByStatus.keys) == ["accepted"], "ingest says they were never dispatched")
        try await Broker.purgeAll()
    }
}
