import AMQP
import Foundation
import HeraldCore
import Synchronization
import TestSupport
import Testing

extension BrokerTests {
    /// A link to the broker that goes silent (no FIN, no RST) is noticed by the missing
    /// heartbeats, on the consuming and on the publishing side. Until it is, its deliveries look
    /// current; what tells them apart is that the broker does not answer on it (`DeliveryLease`).
    @Suite struct SilentLinkTests {
        @Test func aSilentLinkAnswersNoPingAndIsCountedLostAfterMissedHeartbeats() async throws {
            let queue = "herald.test.silent"
            let admin = try Broker.admin()
            try await admin.declareQuorumQueue(queue)
            defer { Task { try? await admin.delete(queue: queue) } }
            try await admin.purge(queue: queue)

            let direct = try Broker.configuration()
            let link = try SilentLink(to: direct.port)
            defer { link.stop() }
            var relayed = direct
            relayed.port = link.port
            relayed.heartbeatSeconds = 2

            let publisher = try AMQPPublisher(configuration: direct, topology: nil, name: "test-silent-feed", logger: quietLogger())
            publisher.start()
            defer { publisher.shutdown() }
            #expect(await publisher.waitUntilConnected(timeout: .seconds(10)))
            try await publisher.publish(OutgoingMessage(routingKey: queue, body: [1], messageId: "silent-1"))

            let consumer = try AMQPConsumer(
                configuration: relayed,
                topology: nil,
                queue: queue,
                prefetch: 1,
                name: "test-silent-consume",
                logger: quietLogger()
            )
            consumer.start()
            defer { consumer.shutdown() }
            let relayedPublisher = try AMQPPublisher(
                configuration: relayed,
                topology: nil,
                name: "test-silent-publish",
                logger: quietLogger()
            )
            relayedPublisher.start()
            defer { relayedPublisher.shutdown() }
            #expect(await relayedPublisher.waitUntilConnected(timeout: .seconds(10)))
            var iterator = consumer.deliveries.makeAsyncIterator()
            let delivery = try #require(await iterator.next())
            #expect(consumer.isCurrent(delivery))

            /// Whether the broker sent anything on the delivery's connection after `instant`.
            func heard(since instant: ContinuousClock.Instant, on consumer: AMQPConsumer, _ delivery: Delivery) -> Bool {
                guard let silence = consumer.silence(of: delivery) else { return false }
                return ContinuousClock.now - silence > instant + .milliseconds(10)
            }

            // A ping is answered: on a consumer without heartbeats nothing else would be heard.
            let quiet = try AMQPConsumer(
                configuration: AMQPConfiguration(url: Broker.url(), heartbeatSeconds: 0),
                topology: nil,
                queue: queue,
                prefetch: 1,
                name: "test-silent-ping",
                logger: quietLogger()
            )
            quiet.start()
            defer { quiet.shutdown() }
            try await publisher.publish(OutgoingMessage(routingKey: queue, body: [2], messageId: "silent-2"))
            var quietDeliveries = quiet.deliveries.makeAsyncIterator()
            let quietDelivery = try #require(await quietDeliveries.next())
            let asked = ContinuousClock.now
            #expect(
                !(await eventually(timeout: .milliseconds(300), every: .milliseconds(20)) { heard(since: asked, on: quiet, quietDelivery) })
            )
            quiet.ping()
            #expect(
                await eventually(timeout: .seconds(10), every: .milliseconds(5)) { heard(since: asked, on: quiet, quietDelivery) },
                "the broker answered the ping"
            )

            link.silence()
            let askedAgain = ContinuousClock.now
            consumer.ping()
            #expect(
                !(await eventually(timeout: .seconds(1), every: .milliseconds(20)) { heard(since: askedAgain, on: consumer, delivery) }),
                "nothing is heard through a silent link"
            )
            #expect(consumer.isCurrent(delivery), "not yet counted lost (two heartbeats of 2 s)")
            // Both ends count the connection lost after two missed heartbeats. The bound is
            // generous; without the check they never would.
            #expect(await eventually(timeout: .seconds(30)) { !consumer.isConnected }, "the consumer noticed the silent link")
            #expect(!consumer.isCurrent(delivery), "its delivery is the broker's again")
            #expect(consumer.silence(of: delivery) == nil)
            #expect(await eventually(timeout: .seconds(30)) { !relayedPublisher.isConnected }, "the publisher noticed the silent link")
        }
    }
}
