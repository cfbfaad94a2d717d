import AMQP
import Foundation
import HeraldCore
import LoadApp
import TestSupport
import Testing

/// Herald on a three-node RabbitMQ cluster (`deploy/local/broker.sh cluster 3`), its queues quorum
/// queues replicated to every node, under herald-load while nodes go away: the node ingest and a
/// dispatcher use, the leader of `herald.requests` killed, every node restarted in turn, and two
/// of three stopped. `make test` starts the cluster for this suite, runs it after the others, and
/// stops it.
@Suite(
    .serialized,
    .timeLimit(.minutes(10)),
    .enabled(if: BrokerCluster.current != nil, "HERALD_TEST_CLUSTER_URL is not set: make test starts the cluster")
)
struct ClusterTests {
    let cluster: BrokerCluster
    static let shape = ["--tenants", "20", "--users", "40", "--groups", "6", "--tenant-prefix", "cluster-"]

    init() throws {
        cluster = try #require(BrokerCluster.current)
        // A test that failed part-way may have left a node down.
        try cluster.startAll()
    }

    /// Ingest on the cluster with the PostgreSQL store, the directory seeded, no dispatcher yet.
    func stack() async throws -> LocalStack {
        try await cluster.purgeAll()
        let stack = try await LocalStack.on(.postgres, extra: ["HERALD_AMQP_URL": cluster.url])
        let seeded = try await stack.tool("herald-load", ["seed"] + Self.shape)
        guard seeded.status == 0 else { throw TestSetupError("herald-load seed failed: \(seeded.output)") }
        try await stack.startIngest()
        return stack
    }

    @Test func everyQueueIsReplicatedToEveryNode() async throws {
        let stack = try await stack()
        defer { stack.stop() }
        for queue in Topology().allQueues {
            #expect(Set(try cluster.members(of: queue)) == Set(cluster.nodes), "\(queue) has a replica on every node")
        }
    }

    /// What the tests and `heraldctl push take` take off a quorum queue is gone from it. RabbitMQ
    /// can drop an ack sent just before its channel closes (rabbitmq-server#10327), so a take
    /// that acked each message handed the same messages back to the next take.
    @Test func whatIsTakenFromAQuorumQueueIsGone() async throws {
        try await cluster.purgeAll()
        let publisher = try AMQPPublisher(configuration: try cluster.configuration(), topology: Topology(), logger: quietLogger())
        publisher.start()
        defer { publisher.shutdown() }
        #expect(await publisher.waitUntilConnected(timeout: .seconds(10)))
        let sent = (0..<400).map { "take-\($0)" }
        try await publisher.publish(
            batch: sent.map { OutgoingMessage(routingKey: Topology.pushIOS, body: Array("{}".utf8), messageId: $0) }
        )
        // From every node in turn: most takes then reach the queue's leader through another node.
        let admins = try cluster.ports.map {
            AMQPAdmin(configuration: try AMQPConfiguration(url: "amqp://guest:guest@127.0.0.1:\($0)/%2f"))
        }
        var taken: [String] = []
        for round in 0..<200 {
            let batch = try await admins[round % admins.count].take(queue: Topology.pushIOS, max: 4)
            if batch.isEmpty { break }
            taken += batch.compactMap(\.messageId)
        }
        #expect(taken.count == sent.count, "each message taken once: \(taken.count - Set(taken).count) taken again")
        #expect(Set(taken) == Set(sent))
        #expect(try await admins[0].counts(queue: Topology.pushIOS).messages == 0)
    }

    @Test func stoppingTheNodeIngestAndADispatcherUseLosesNothing() async throws {
        let stack = try await stack()
        defer { stack.stop() }
        let ingest = try #require(stack.ingest)
        let node = try #require(try cluster.nodes(holding: "herald-ingest[\(ingest.process.processIdentifier)]").first)
        // Each connection starts at a node of its own: start dispatchers until one uses that node.
        var dispatcher = try stack.startDispatcher()
        for _ in 0..<12 {
            let pid = dispatcher.process.processIdentifier
            var used: Set<String> = []
            _ = await eventually(timeout: .seconds(20)) {
                used = (try? cluster.nodes(holding: "herald-dispatcher[\(pid)]")) ?? []
                return used.count == 2 || ((try? cluster.nodes(holding: "herald-dispatcher[\(pid)] dispatcher-consume").count) ?? 0) > 0
            }
            if used.contains(node) { break }
            dispatcher.terminate()
            dispatcher = try stack.startDispatcher()
        }
        #expect(try cluster.nodes(holding: "herald-dispatcher[\(dispatcher.process.processIdentifier)]").contains(node))

        let load = try stack.launch("herald-load", faultLoad(Self.shape, seconds: 25))
        #expect(await dispatchedAtLeast(40, by: dispatcher))
        try cluster.stop(node)
        try await Task.sleep(for: .seconds(5))
        try cluster.start(node)

        let outcome = try await finished(load)
        #expect(ingest.log.contains("broker connection restored"), "ingest moved to another node")
        #expect(dispatcher.log.contains("broker connection restored"), "the dispatcher moved to another node")
        outcome.clusterRow(
            "node that ingest and a dispatcher are connected to stopped, started 5 s later",
            test: "stoppingTheNodeIngestAndADispatcherUseLosesNothing"
        )
    }

    @Test func killingTheLeaderOfTheRequestsQueueLosesNothing() async throws {
        let stack = try await stack()
        defer { stack.stop() }
        let dispatcher = try stack.startDispatcher()
        try stack.startDispatcher()
        let leader = try #require(try cluster.leader(of: Topology.requests))

        let load = try stack.launch("herald-load", faultLoad(Self.shape, seconds: 25))
        #expect(await dispatchedAtLeast(40, by: dispatcher))
        try cluster.kill(leader)
        var next: String?
        #expect(
            await eventually(timeout: .seconds(30)) {
                next = try? cluster.leader(of: Topology.requests)
                return next != nil && next != leader
            },
            "the other nodes elect a new leader"
        )
        try await Task.sleep(for: .seconds(3))
        try cluster.start(leader)

        let outcome = try await finished(load)
        outcome.clusterRow(
            "node holding the leader of herald.requests SIGKILLed, started again",
            test: "killingTheLeaderOfTheRequestsQueueLosesNothing"
        )
    }

    @Test func aRollingRestartOfEveryNodeLosesNothing() async throws {
        let stack = try await stack()
        defer { stack.stop() }
        let dispatcher = try stack.startDispatcher()
        try stack.startDispatcher()

        let load = try stack.launch("herald-load", faultLoad(Self.shape, seconds: 50))
        #expect(await dispatchedAtLeast(40, by: dispatcher))
        for node in cluster.nodes {
            try cluster.stop(node)
            try await Task.sleep(for: .seconds(2))
            try cluster.start(node)
            // As an operator would: the next node goes once this one is back in every queue.
            _ = await eventually(timeout: .seconds(30)) {
                Topology.queues.allSatisfy { ((try? cluster.members(of: $0)) ?? []).count == cluster.nodes.count }
            }
        }

        let outcome = try await finished(load)
        outcome.clusterRow(
            "rolling restart: each of the 3 nodes stopped and started in turn",
            test: "aRollingRestartOfEveryNodeLosesNothing"
        )
    }

    /// With two of three nodes down the last one has no majority: it pauses itself
    /// (`pause_minority`), so nothing can be confirmed and ingest must not answer 202. When a
    /// second node returns, the same sends (same `Idempotency-Key`) are accepted, each as one
    /// notification, and every envelope arrives. A copy (same envelope id) is allowed only where
    /// the broker refused a batch while a push queue still had no leader: at least once.
    @Test func withTwoNodesOfThreeDownNothingIsAcceptedUntilASecondReturns() async throws {
        let stack = try await stack()
        defer { stack.stop() }
        let dispatcher = try stack.startDispatcher()
        let admin = try cluster.admin()
        // Group "all": two users, each with an iPhone and an Android phone, all eligible.
        try await stack.importDirectory(nestedGroupDirectory(tenant: "cluster-minority", users: 2))
        let token = try await stack.issueToken(tenant: "cluster-minority")
        func send(_ i: Int) async -> Int? {
            guard let connection = try? await HTTPConnection.connect(host: "127.0.0.1", port: stack.port, group: .singleton) else {
                return nil
            }
            defer { Task { await connection.close() } }
            return try? await connection.request(
                .POST,
                "/v1/notifications",
                headers: [
                    ("Authorization", "Bearer \(token)"), ("Content-Type", "application/json"), ("Idempotency-Key", "minority-\(i)"),
                ],
                body: Array(#"{"title":"t","body":"b","groupIds":["all"]}"#.utf8)
            ).status
        }

        try cluster.stop(cluster.nodes[1])
        try cluster.stop(cluster.nodes[2])
        let down = ContinuousClock.now
        #expect(await eventually(timeout: .seconds(30)) { await stack.readiness() == 503 }, "ingest says it cannot accept")
        var answers: [Int?] = []
        for i in 0..<8 { answers.append(await send(i)) }
        #expect(answers.allSatisfy { $0 == 503 }, "no quorum, no confirm: every send refused, none accepted (\(answers))")

        try cluster.start(cluster.nodes[1])
        let back = ContinuousClock.now
        #expect(await eventually(timeout: .seconds(60)) { await stack.isReady() }, "ingest recovers once a majority is back")
        var accepted: [Int: Int?] = [:]
        _ = await eventually(timeout: .seconds(30)) {
            for i in 0..<8 where accepted[i] != 202 { accepted[i] = await send(i) }
            return accepted.values.allSatisfy { $0 == 202 }
        }
        let refusedFor = ContinuousClock.now - down
        let recoveredIn = ContinuousClock.now - back
        #expect(accepted.values.allSatisfy { $0 == 202 }, "the same sends are accepted once a majority is back (\(accepted))")

        // A queue may still elect its leader when herald.requests already has one: the broker
        // then refuses envelopes (the dispatcher sends them again, same ids) or a take.
        var envelopes: [Delivery] = []
        func takeBoth() async {
            envelopes += (try? await admin.take(queue: Topology.pushIOS, max: 100)) ?? []
            envelopes += (try? await admin.take(queue: Topology.pushAndroid, max: 100)) ?? []
        }
        _ = await eventually(timeout: .seconds(60)) {
            await takeBoth()
            return Set(envelopes.compactMap(\.messageId)).count >= 32
        }
        try await Task.sleep(for: .seconds(2))
        await takeBoth()
        let ids = envelopes.compactMap(\.messageId)
        let sentAgain = dispatcher.log.contains("it is sent again")
        let taken = "\(ids.count) taken, \(Set(ids).count) distinct; the dispatcher sent a refused batch again: \(sentAgain)"
        #expect(Set(ids).count == 32, "four envelopes per accepted send, the same 8 sends accepted once (\(taken))")
        #expect(ids.count == Set(ids).count || sentAgain, "a copy only of what the broker refused (\(taken))")
        try cluster.start(cluster.nodes[2])
        reliabilityRow(
            "2 of 3 nodes stopped (the last pauses itself: pause_minority), one started again",
            load: "8 group sends (4 devices each) with Idempotency-Key, all 503 while down, the same 8 again after; "
                + "ingest refused for \(Int(refusedFor.inSeconds.rounded())) s in all, and accepted "
                + String(format: "%.1f s after the returning node had started", recoveredIn.inSeconds),
            accepted: 8,
            lost: 32 - Set(ids).count,
            duplicates: ids.count - Set(ids).count,
            test: "withTwoNodesOfThreeDownNothingIsAcceptedUntilASecondReturns"
        )
    }

    /// Waits for herald-load and checks what every cluster fault must keep: every 202 delivered,
    /// nothing else.
    func finished(_ load: ServiceProcess) async throws -> LoadRunOutcome {
        let (_, output) = await load.finish()
        let outcome = try LoadRunOutcome(output)
        #expect(outcome.accepted > 200)
        #expect(outcome.envelopes.lost == 0, "every 202 got its envelopes")
        #expect(outcome.envelopes.unexpected == 0)
        #expect(outcome.envelopes.wrongQueue == 0)
        #expect(outcome.errors.keys.allSatisfy { $0 == "503" }, "no answer but 202 and 503: \(outcome.errors)")
        #expect(outcome.queuesAtEnd?["herald.dead"] == 0, "nothing dead-lettered: the broker's trouble costs no attempt")
        #expect(outcome.incompleteByStatus.isEmpty, "every send dispatched: \(outcome.incompleteByStatus)")
        return outcome
    }
}

extension LoadRunOutcome {
    /// A RELIABILITY.md row of a cluster fault: with how long ingest accepted nothing.
    func clusterRow(_ fault: String, test: String) {
        reliabilityRow(
            "3-node cluster: " + fault,
            load: "herald-load, 40 sends/s, 20% group sends, retries with Idempotency-Key; longest time without a 202: "
                + String(format: "%.2f s", longestRefusalSeconds) + "; \(refusals) tries answered 503 or not at all (retried)",
            accepted: accepted,
            lost: envelopes.lost,
            duplicates: envelopes.duplicates,
            test: test
        )
        print("cluster fault \(test): duplicates \(envelopes.duplicates), published again by Herald \(envelopes.publishedAgain)")
    }
}
