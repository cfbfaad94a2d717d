import Foundation
import HeraldCore
import TestSupport
import Testing

@testable import AMQP

extension BrokerTests {
    /// The AMQP client encodes publishes and acks itself and writes what one turn of its loop made
    /// in one write (rabbitmq-c wrote each frame with a system call of its own). What the broker
    /// receives must be what was handed over, whatever its size, and an ack handed over must reach
    /// the broker even when the connection is closed right after.
    @Suite struct FrameBatchTests {
        /// A scratch queue: a quorum queue like Herald's, or a classic one, which (unlike a quorum
        /// queue, rabbitmq-server#10327) takes the acks sent just before a channel closes.
        private static func scratchQueue(_ name: String, quorum: Bool = true) async throws -> (AMQPAdmin, String) {
            let admin = try Broker.admin()
            try? await admin.delete(queue: name)
            if quorum {
                try await admin.declareQuorumQueue(name)
            } else {
                try RabbitMQConnection(configuration: try Broker.configuration()).declareQueue(name, arguments: [])
            }
            try await admin.purge(queue: name)
            return (admin, name)
        }

        private static func publisher(_ name: String) async throws -> AMQPPublisher {
            let publisher = try AMQPPublisher(configuration: try Broker.configuration(), topology: nil, name: name, logger: quietLogger())
            publisher.start()
            #expect(await publisher.waitUntilConnected(timeout: .seconds(10)))
            return publisher
        }

        /// Bodies around the negotiated frame size (131,072 bytes less 8 of framing per body frame)
        /// and past it, empty ones, headers and an expiration, one at a time and as one batch of
        /// 600 that is larger than what the client holds back before writing (256 KiB).
        @Test func messagesOfEverySizeArriveWholeAndInOrder() async throws {
            let (admin, queue) = try await Self.scratchQueue("herald.test.frames")
            defer { Task { try? await admin.delete(queue: queue) } }
            let publisher = try await Self.publisher("test-frames")
            defer { publisher.shutdown() }

            func body(_ size: Int, seed: Int) -> [UInt8] { (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ seed) } }
            let sizes = [0, 1, 131_063, 131_064, 131_065, 262_129, 400_000]
            var sent: [OutgoingMessage] = []
            for (index, size) in sizes.enumerated() {
                let message = OutgoingMessage(
                    routingKey: queue,
                    body: body(size, seed: index),
                    messageId: "single-\(index)",
                    headers: ["x-size": .int(Int64(size)), "x-note": .string("ü-\(index)")],
                    expirationMillis: index == 2 ? 600_000 : nil
                )
                try await publisher.publish(message)
                sent.append(message)
            }
            let batch = (0..<600).map { index in
                OutgoingMessage(routingKey: queue, body: body(700 + index, seed: index), messageId: "batch-\(index)")
            }
            try await publisher.publish(batch: batch)
            sent += batch

            // One more than was sent, so that a copy would be counted: every message was confirmed,
            // so all are on the queue before the first take.
            let received = try await Broker.collect([queue], count: sent.count + 1, timeout: .seconds(3))
            #expect(received.count == sent.count)
            for (message, delivery) in zip(sent, received) {
                #expect(delivery.messageId == message.messageId)
                #expect(delivery.body == message.body, "\(message.messageId): \(delivery.body.count) bytes for \(message.body.count)")
                #expect(delivery.persistent)
                for (key, value) in message.headers { #expect(delivery.headers[key] == value) }
            }
        }

        /// Acks handed to the consumer just before it is shut down leave before its connection
        /// closes: what was acknowledged is not delivered again.
        @Test func acksHandedOverRightBeforeShutdownAreKept() async throws {
            let (admin, queue) = try await Self.scratchQueue("herald.test.frames-acks", quorum: false)
            defer { Task { try? await admin.delete(queue: queue) } }
            let publisher = try await Self.publisher("test-frames-acks-feed")
            defer { publisher.shutdown() }
            let count = 300
            try await publisher.publish(
                batch: (0..<count).map { OutgoingMessage(routingKey: queue, body: [UInt8($0 % 256)], messageId: "ack-\($0)") }
            )

            var acknowledged: [String] = []
            for round in 0..<5 {
                let consumer = try AMQPConsumer(
                    configuration: try Broker.configuration(),
                    topology: nil,
                    queue: queue,
                    prefetch: 20,
                    name: "test-frames-acks-\(round)",
                    logger: quietLogger()
                )
                consumer.start()
                var iterator = consumer.deliveries.makeAsyncIterator()
                var taken: [Delivery] = []
                while taken.count < 20, let delivery = await iterator.next() { taken.append(delivery) }
                // Every ack and the shutdown are handed over at once: the connection's thread finds
                // them together.
                for delivery in taken { consumer.ack(delivery) }
                consumer.shutdown()
                #expect(taken.count == 20)
                acknowledged += taken.compactMap(\.messageId)
            }
            // Messages the broker sent past the acks before the close come back marked redelivered;
            // an acknowledged one must not come back at all.
            #expect(Set(acknowledged).count == acknowledged.count, "acknowledged messages were delivered again")
            let settled = await eventually(timeout: .seconds(10)) { (try? await admin.counts(queue: queue).messages) == count - 100 }
            let left = try await admin.counts(queue: queue).messages
            #expect(settled, "after 100 acknowledged, \(left) of \(count) are left")
        }
    }
}

extension BrokerTests {
    /// A channel the broker keeps refusing messages for one queue on, while it confirms messages for
    /// others, is opened again: RabbitMQ 3.10 can leave a channel refusing a quorum queue that
    /// can take messages again (after a leader election), while a new channel publishes fine.
    /// The full queue here (`x-overflow: reject-publish`) stands in for that queue: the broker
    /// refuses every message for it, and confirms the ones for the other queue in between.
    @Suite struct RefusedQueueTests {
        @Test func refusalsForOneQueueAmidConfirmsForAnotherReopenTheConnection() async throws {
            let admin = try Broker.admin()
            let (full, open) = ("herald.test.refusing", "herald.test.taking")
            for queue in [full, open] { try? await admin.delete(queue: queue) }
            defer { Task { for queue in [full, open] { try? await admin.delete(queue: queue) } } }
            let setup = try RabbitMQConnection(configuration: try Broker.configuration())
            try setup.declareQueue(full, arguments: [("x-max-length", .int(0)), ("x-overflow", .string("reject-publish"))])
            try setup.declareQueue(open, arguments: [])

            let lines = RecordingLogHandler.Lines()
            let publisher = try AMQPPublisher(
                configuration: try Broker.configuration(),
                topology: nil,
                name: "test-refused-queue",
                logger: RecordingLogHandler.logger(lines)
            )
            publisher.start()
            defer { publisher.shutdown() }
            #expect(await publisher.waitUntilConnected(timeout: .seconds(10)))

            var refused = 0
            let started = ContinuousClock.now
            while ContinuousClock.now - started < .seconds(9), lines.count("broker connection restored") == 0 {
                try? await publisher.publish(OutgoingMessage(routingKey: open, body: [1], messageId: "taken"))
                do {
                    try await publisher.publish(OutgoingMessage(routingKey: full, body: [2], messageId: "refused"))
                } catch AMQPError.nacked {
                    refused += 1
                }
                try await Task.sleep(for: .milliseconds(200))
            }
            #expect(refused > 0, "the full queue refused nothing")
            #expect(
                lines.count("broker connection restored") > 0,
                "refused \(refused) times in \(ContinuousClock.now - started) without opening the connection again"
            )
        }
    }
}
