import AMQP
import Foundation
import TestSupport
import Testing

extension BrokerTests {
    /// A `HERALD_AMQP_URL` naming several nodes (issue 15): a service connects to one that answers.
    @Suite struct ClusterURLTests {
        @Test func aListWhoseOtherNodesAreDownConnectsToTheOneThatAnswers() async throws {
            let live = try Broker.configuration()
            // Port 1 on loopback refuses at once: a node that is down.
            var configuration = try AMQPConfiguration(url: "amqp://guest:guest@127.0.0.1:1,127.0.0.1:1,127.0.0.1:\(live.port)/%2f")
            configuration.startupTimeout = .seconds(20)
            try configuration.verifyReachable()
            let publisher = try AMQPPublisher(configuration: configuration, topology: nil, name: "test-nodes", logger: quietLogger())
            publisher.start()
            defer { publisher.shutdown() }
            #expect(await publisher.waitUntilConnected(timeout: .seconds(20)), "it found the node that answers")
        }

        @Test func aListOfNodesThatAreAllDownFailsAtStartNamingThem() throws {
            var configuration = try AMQPConfiguration(url: "amqp://guest:guest@127.0.0.1:1,127.0.0.1:2/%2f")
            configuration.startupTimeout = .seconds(1)
            #expect(throws: AMQPError.self) { try configuration.verifyReachable() }
            #expect(configuration.redactedDescription == "amqp://127.0.0.1:1/%2f,amqp://127.0.0.1:2/%2f")
        }

        /// Ingest's publisher on two "nodes" (two relays to the test broker), publishing steadily;
        /// the node it is connected to goes away. Every publish is confirmed all the same: those
        /// waiting or unconfirmed when the connection was lost go out on the other node.
        @Test func publishesRideOutTheLossOfTheNodeTheyWentTo() async throws {
            let queue = "herald.test.failover"
            let admin = try Broker.admin()
            try await admin.declareQuorumQueue(queue)
            defer { Task { try? await admin.delete(queue: queue) } }
            try await admin.purge(queue: queue)

            let direct = try Broker.configuration()
            let links = [try SilentLink(to: direct.port), try SilentLink(to: direct.port)]
            defer { for link in links { link.stop() } }
            let configuration = try AMQPConfiguration(url: "amqp://guest:guest@127.0.0.1:\(links[0].port),127.0.0.1:\(links[1].port)/%2f")
            let publisher = try AMQPPublisher(
                configuration: configuration,
                topology: nil,
                confirmTimeout: .seconds(5),
                name: "test-failover",
                ridesOutFailover: true,
                logger: quietLogger()
            )
            publisher.start()
            defer { publisher.shutdown() }
            #expect(await publisher.waitUntilConnected(timeout: .seconds(10)))
            let used = try #require(links.firstIndex { $0.connections > 0 })

            let count = 400
            let failures = try await withThrowingTaskGroup(of: String?.self) { group in
                for i in 0..<count {
                    group.addTask {
                        // 20 publishes in flight at a time, spread over about a second.
                        try await Task.sleep(for: .milliseconds(i / 20 * 50))
                        do {
                            try await publisher.publish(OutgoingMessage(routingKey: queue, body: [1], messageId: "failover-\(i)"))
                            return nil
                        } catch {
                            return "\(error)"
                        }
                    }
                }
                try await Task.sleep(for: .milliseconds(400))
                links[used].stop()
                return try await group.reduce(into: [String]()) { if let failure = $1 { $0.append(failure) } }
            }
            #expect(failures.isEmpty, "\(failures.count) publishes failed: \(Set(failures))")
            #expect(links[1 - used].connections > 0, "it moved to the other node")
            // Copies are allowed (a publish unconfirmed when its connection went is sent again).
            let onQueue = try await admin.counts(queue: queue).messages
            let arrived = Set(try await admin.take(queue: queue, max: onQueue).compactMap(\.messageId))
            #expect(arrived.count == count, "every confirmed publish is on the queue (\(onQueue) messages)")
        }
    }
}
