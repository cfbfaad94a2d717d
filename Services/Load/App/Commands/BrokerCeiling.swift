import AMQP
import ArgumentParser
import Foundation

/// The broker's own ceiling: persistent, confirmed publishes of envelope-sized messages to a
/// quorum queue, with many in flight, then consuming them with acks.
struct BrokerCeiling: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "broker",
        abstract: "Raw confirmed publish and consume rate of a quorum queue."
    )
    @OptionGroup var common: CommonOptions
    @Option(help: "Messages to publish.") var messages = 200_000
    @Option(help: "Bytes per message (an envelope is about 600).") var size = 600
    @Option(help: "Messages per confirmed batch.") var batch = 500
    @Option(help: "Batches in flight at once.") var inFlight = 4

    func run() async throws {
        let queue = "herald.bench.ceiling"
        let configuration = try common.amqp()
        let admin = AMQPAdmin(configuration: configuration)
        try await admin.declareQuorumQueue(queue)
        try await admin.purge(queue: queue)
        let publisher = try await connectedPublisher(configuration, topology: nil, name: "bench")
        defer { publisher.shutdown() }
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        let batches = (messages + batch - 1) / batch
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            for b in 0..<batches {
                if running >= inFlight {
                    try await group.next()
                    running -= 1
                }
                let count = min(batch, messages - b * batch)
                let items = (0..<count).map { OutgoingMessage(routingKey: queue, body: body, messageId: "m\(b)-\($0)") }
                group.addTask { try await publisher.publish(batch: items) }
                running += 1
            }
            try await group.waitForAll()
        }
        let publishTime = (ContinuousClock.now - started).inSeconds

        let consumer = try AMQPConsumer(
            configuration: configuration,
            topology: nil,
            queue: queue,
            prefetch: 1000,
            name: "bench",
            logger: silentLogger()
        )
        consumer.start()
        let consumeStart = ContinuousClock.now
        var received = 0
        for await delivery in consumer.deliveries {
            consumer.ack(delivery)
            received += 1
            if received == messages { break }
        }
        let consumeTime = (ContinuousClock.now - consumeStart).inSeconds
        consumer.shutdown()
        try await admin.purge(queue: queue)
        common.report(
            "raw broker ceiling (quorum queue, persistent, confirmed)",
            [
                ("messages", "\(messages)"), ("bytes", "\(size)"),
                ("publish_per_second", String(format: "%.0f", Double(messages) / publishTime)),
                ("consume_per_second", String(format: "%.0f", Double(received) / consumeTime)),
            ]
        )
    }
}
