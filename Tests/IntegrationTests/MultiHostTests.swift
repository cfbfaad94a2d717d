import AMQP
import Foundation
import HeraldCore
import LoadApp
import Store
import TestSupport
import Testing

/// Herald on seven hosts of one network (`HostNetwork`): a broker host, a PostgreSQL host, two
/// ingest hosts, three dispatcher hosts, and herald-load driving both ingest hosts from outside.
/// `make test` runs this suite on its own, after the others, because it starts a broker and a
/// database of its own and loads the machine.
@Suite(
    .serialized,
    .timeLimit(.minutes(10)),
    .enabled(if: HostNetwork.isAvailable, "network namespaces need root, iproute2 and permission to make them"),
    .onSeveralHosts
)
struct MultiHostTests {
    let network: HostNetwork

    init() throws {
        network = try #require(HostNetwork.current, "the suite's network was not started")
    }

    @Test func throttlesHoldAcrossIngestAndDispatcherHosts() async throws {
        var directory = DirectoryFile(tenants: [Tenant(id: "mh-throttle", name: "Throttle")])
        directory.users = [User(id: "u1", tenantId: "mh-throttle", displayName: "One")]
        directory.devices = [
            Device(
                id: "d1",
                tenantId: "mh-throttle",
                userId: "u1",
                platform: .ios,
                enrolled: true,
                companyPortalInstalled: true,
                notificationsAllowed: true,
                googlePlayServices: false,
                pushToken: "apns-token-1"
            )
        ]
        directory.groups = [Group(id: "g", tenantId: "mh-throttle", displayName: "G", members: [GroupMember(type: .user, id: "u1")])]
        directory.roles = [Role(id: "r", tenantId: "mh-throttle", permissions: ["Organization.Update"])]
        directory.principals = [Principal(id: "p-admin", tenantId: "mh-throttle", roles: ["r"])]
        try await network.importDirectory(directory)
        let token = try await network.token(tenant: "mh-throttle", principal: "p-admin")

        // 60 group sends at once, half through each ingest host.
        let answers = try await withThrowingTaskGroup(of: (Int, String?).self) { group in
            for i in 0..<60 {
                let host = HostNetwork.ingestHosts[i % 2]
                group.addTask {
                    let response = try await network.post(
                        "/v1/notifications",
                        #"{"title":"t","body":"b","groupIds":["g"]}"#,
                        token: token,
                        to: host
                    )
                    let id = try? JSONDecoder().decode([String: String].self, from: Data(response.body.readableBytesView))["id"]
                    return (response.status, id)
                }
            }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(answers.allSatisfy { $0.0 == 202 }, "every send is accepted; the dispatchers apply the throttle")
        let ids = answers.compactMap(\.1)

        var states: [DeliveryState: Int] = [:]
        _ = await eventually(timeout: .seconds(60)) {
            states = [:]
            for id in ids {
                let state = (try? await network.stores.statuses.statusForOperator(id: id))?.status ?? .accepted
                states[state, default: 0] += 1
            }
            return (states[.dispatched] ?? 0) + (states[.throttled] ?? 0) == ids.count
        }
        #expect(states[.dispatched] == 25, "exactly the tenant's 25 group sends per hour went out (\(states))")
        #expect(states[.throttled] == 35)
        let refusals = try await network.brokerAdmin().counts(queue: Topology.throttled).messages
        #expect(refusals == 35, "each refused send has its record on herald.throttled")
        reliabilityRow(
            "60 group sends of one tenant at once through 2 ingest hosts, 3 dispatcher hosts, PostgreSQL, policy reject",
            load: "\(states[.dispatched] ?? 0) dispatched, \(states[.throttled] ?? 0) throttled",
            accepted: ids.count,
            lost: 0,
            duplicates: 0,
            test: "throttlesHoldAcrossIngestAndDispatcherHosts"
        )
    }

    @Test func aDispatcherHostCutOffMidFanOutLosesNothingAndDoesNotRepeatWhatOthersFinished() async throws {
        let users = 12_000
        try await network.importDirectory(nestedGroupDirectory(tenant: "mh-fanout", users: users))
        let token = try await network.token(tenant: "mh-fanout", principal: "p-admin")
        let admin = try network.brokerAdmin()
        for queue in [Topology.pushIOS, Topology.pushAndroid] { try await admin.purge(queue: queue) }
        let tally = try EnvelopeTally(configuration: try network.brokerConfiguration())
        defer { tally.stop() }
        for host in HostNetwork.dispatcherHosts {
            #expect(try network.brokerHoldsConnection(from: host), "the broker lists the connections of \(host)")
        }

        let response = try await network.post(
            "/v1/notifications",
            #"{"title":"t","body":"b","groupIds":["all"]}"#,
            token: token,
            to: "ingest1"
        )
        #expect(response.status == 202)
        let id = try #require(try JSONDecoder().decode([String: String].self, from: Data(response.body.readableBytesView))["id"])

        // The host whose dispatcher took the request is cut off once envelopes flow.
        var holder: String?
        _ = await eventually(timeout: .seconds(60)) {
            for host in HostNetwork.dispatcherHosts
            where (await network.dispatcherMetric("herald_dispatcher_in_flight", on: host) ?? 0) >= 1 {
                holder = host
                return tally.distinct > 0
            }
            return false
        }
        let cut = try #require(holder, "a dispatcher took the request")
        try network.cut(cut)
        let statusAtCut = try await network.stores.statuses.statusForOperator(id: id)?.status
        #expect(statusAtCut != .dispatched, "the cut lands in the middle of the fan-out")

        // The broker misses the host's heartbeats, closes its connection and redelivers the request.
        #expect(await dispatched(id, in: network.stores, timeout: .seconds(180)), "another host finished the fan-out")
        let copies = await tally.copies(atLeast: 2 * users, timeout: .seconds(120))
        let expected = Set(
            (0..<users).flatMap { i in ["i\(i)", "a\(i)"].map { EnvelopeBuilder.envelopeId(notificationId: id, deviceId: $0) } }
        )
        #expect(Set(copies.keys) == expected, "every device's envelope arrived (missing \(expected.subtracting(copies.keys).count))")
        let finished = copies.values.reduce(0, +)

        // The link comes back once the broker has dropped the host's connections: had one of them
        // outlived the cut (RabbitMQ does not watch heartbeats while it throttles a publisher),
        // TCP would still hand it what the host wrote before the cut, which is the network's
        // doing, not the dispatcher's. The host may not know yet that its connections are gone.
        #expect(
            await eventually(timeout: .seconds(90)) { (try? network.brokerHoldsConnection(from: cut)) == false },
            "the broker dropped the connections of \(cut)"
        )
        // The host reconnects, takes work again, and publishes nothing more of the request the
        // others finished.
        try network.mend(cut)
        let dispatcher = try #require(network.services[cut])
        #expect(
            await eventually(timeout: .seconds(90)) { dispatcher.log.contains("broker connection restored") },
            "the dispatcher on \(cut) reconnected"
        )
        try await Task.sleep(for: .seconds(5))
        let later = await tally.copies(atLeast: 0, timeout: .seconds(1)).values.reduce(0, +)
        let said = dispatcher.log.split(separator: "\n").filter { line in
            ["broker connection", "let go", "retried", "store unavailable"].contains { line.contains($0) }
        }
        #expect(
            later == finished,
            "the host that was cut published \(later - finished) more envelopes after it came back; it said:\n\(said.suffix(20).joined(separator: "\n"))"
        )
        #expect(await network.isReady(cut))
        reliabilityRow(
            "a dispatcher host's link cut mid fan-out (set down), put back once the others finished and the broker dropped its connections",
            load: "one send to a 12,000-user nested group (24,000 envelopes), 3 dispatcher hosts, PostgreSQL",
            accepted: 1,
            lost: expected.subtracting(copies.keys).count,
            duplicates: later - copies.count,
            test: "aDispatcherHostCutOffMidFanOutLosesNothingAndDoesNotRepeatWhatOthersFinished"
        )
    }

    @Test func aPausedDatabaseGives503sUnderLoadAndNothingIsLostOrSentTwice() async throws {
        let shape = ["--tenants", "6", "--users", "40", "--groups", "6", "--tenant-prefix", "mh-pause-"]
        #expect(try await network.tool("herald-load", ["seed"] + shape).status == 0)
        let token = try await network.token(tenant: "mh-pause-t0000", principal: "load-admin")
        let before = network.dispatchedSoFar
        let load = try network.launch("herald-load", faultLoad(shape, seconds: 30) + ["--url", network.ingestURLs])
        #expect(await network.dispatched(40, moreThan: before))

        try network.pauseDatabase()
        let paused = ContinuousClock.now
        // A send while the database answers nobody: a clear 503 with Retry-After, within the bound.
        let refused = try await network.post(
            "/v1/devices/nowhere/notifications",
            #"{"title":"t","body":"b"}"#,
            token: token,
            to: "ingest2",
            key: "mh-pause-probe"
        )
        let waited = ContinuousClock.now - paused
        try await Task.sleep(until: paused + .seconds(10))
        try network.resumeDatabase()

        #expect(refused.status == 503)
        #expect(String(buffer: refused.body).contains("store_unavailable"))
        #expect(refused.header("Retry-After") != nil)
        #expect(waited < .seconds(9), "ingest answered within its bound, not when the database came back")

        let (_, output) = await load.finish()
        let outcome = try LoadRunOutcome(output)
        #expect(outcome.accepted > 400)
        #expect(outcome.envelopes.lost == 0, "every 202 got its envelopes")
        #expect(outcome.envelopes.unexpected == 0, "no retry became a second notification")
        #expect(outcome.envelopes.duplicates == 0, "held requests were not published twice")
        for host in HostNetwork.ingestHosts + HostNetwork.dispatcherHosts {
            #expect(await eventually(timeout: .seconds(30)) { await network.isReady(host) }, "\(host) recovered by itself")
        }
        reliabilityRow(
            "PostgreSQL paused (SIGSTOP) 10 s, then resumed; 2 ingest and 3 dispatcher hosts",
            load: "herald-load on both ingest hosts, 40 sends/s, 20% group sends, retries with Idempotency-Key",
            accepted: outcome.accepted,
            lost: outcome.envelopes.lost,
            duplicates: outcome.envelopes.duplicates,
            test: "aPausedDatabaseGives503sUnderLoadAndNothingIsLostOrSentTwice"
        )
    }

    @Test func anIngestHostKilledUnderLoadMakesRetriesGoToTheOtherWithoutASecondNotification() async throws {
        let shape = ["--tenants", "6", "--users", "40", "--groups", "6", "--tenant-prefix", "mh-kill-"]
        #expect(try await network.tool("herald-load", ["seed"] + shape).status == 0)
        let before = network.dispatchedSoFar
        let load = try network.launch("herald-load", faultLoad(shape, seconds: 20) + ["--url", network.ingestURLs])
        let ingest = try #require(network.services["ingest1"])
        #expect(await network.dispatched(40, moreThan: before))
        ingest.kill()

        let (_, output) = await load.finish()
        let outcome = try LoadRunOutcome(output)
        #expect(outcome.accepted > 400)
        #expect(outcome.retries > 0, "some sends got no answer from the killed host and were retried on the other")
        #expect(outcome.envelopes.lost == 0, "every 202 got its envelopes")
        #expect(outcome.envelopes.unexpected == 0, "no retry became a second notification")
        try network.startIngest(on: "ingest1")
        #expect(await eventually(timeout: .seconds(60)) { await network.isReady("ingest1") })
        reliabilityRow(
            "an ingest host SIGKILLed (of 2), load balanced over both",
            load: "herald-load on both ingest hosts, 40 sends/s, 20% group sends, retries with Idempotency-Key",
            accepted: outcome.accepted,
            lost: outcome.envelopes.lost,
            duplicates: outcome.envelopes.duplicates,
            test: "anIngestHostKilledUnderLoadMakesRetriesGoToTheOtherWithoutASecondNotification"
        )
    }
}
