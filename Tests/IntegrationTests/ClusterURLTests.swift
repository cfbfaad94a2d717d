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
    }
}
