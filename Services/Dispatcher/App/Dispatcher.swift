import AMQP
public import Directory
public import Logging
public import ServiceLifecycle
import HeraldCore
import Synchronization

/// herald-dispatcher's worker: consumes `herald.requests` and runs up to `concurrency`
/// requests at once. On graceful shutdown it stops taking deliveries, finishes what it
/// holds and acks it, then closes its connections (anything not started goes back to the queue).
public final class Dispatcher: Service, Sendable {
    private let configuration: DispatcherConfiguration
    private let consumer: AMQPConsumer
    private let publisher: AMQPPublisher
    private let processor: RequestProcessor
    private let logger: Logger
    /// Set once graceful shutdown begins: held deliveries are given back instead of tried again.
    private let draining = Atomic<Bool>(false)

    public init(configuration: DispatcherConfiguration, database: HeraldDatabase, logger: Logger) throws {
        let topology = Topology()
        self.configuration = configuration
        self.logger = logger
        publisher = try AMQPPublisher(
            configuration: configuration.amqp, topology: topology, confirmTimeout: .seconds(10), name: "dispatcher-publish", logger: logger)
        consumer = try AMQPConsumer(
            configuration: configuration.amqp, topology: topology, queue: Topology.requests, prefetch: configuration.prefetch,
            name: "dispatcher-consume", logger: logger)
        processor = RequestProcessor(configuration: configuration, topology: topology, database: database, sink: publisher, logger: logger)
    }

    /// Both broker connections are open.
    public var isConnected: Bool { consumer.isConnected && publisher.isConnected }

    public func run() async throws {
        publisher.start()
        // Consume only once publishing works, so the first deliveries do not fail needlessly.
        _ = await publisher.waitUntilConnected(timeout: .seconds(10))
        consumer.start()
        logger.info("dispatcher consuming", metadata: [
            "queue": "\(Topology.requests)", "prefetch": "\(configuration.prefetch)", "concurrency": "\(configuration.concurrency)",
            "throttle.policy": "\(configuration.throttle.policy.rawValue)",
        ])
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                var running = 0
                for await delivery in consumer.deliveries {
                    if running >= configuration.concurrency {
                        await group.next()
                        running -= 1
                    }
                    running += 1
                    DispatcherMetrics.inFlight(running)
                    group.addTask { await self.handle(delivery) }
                }
                await group.waitForAll()
                DispatcherMetrics.inFlight(0)
            }
        } onGracefulShutdown: {
            self.logger.info("dispatcher draining: no new deliveries; finishing those in progress")
            self.draining.store(true, ordering: .relaxed)
            self.consumer.stopDeliveries()
        }
        consumer.shutdown()
        publisher.shutdown()
        logger.info("dispatcher stopped")
    }

    private func handle(_ delivery: Delivery) async {
        var holds = 0
        var lastWarning: ContinuousClock.Instant?
        while true {
            switch await processor.process(delivery) {
            case .ack:
                if holds > 0 { logger.info("store available again; held request processed", metadata: metadata(delivery, holds)) }
                consumer.ack(delivery)
                return
            case .retry(let delay):
                try? await Task.sleep(for: delay)
                consumer.nack(delivery, requeue: true)
                return
            case .hold(let delay):
                // Once a minute at most per request, so an outage does not flood the log.
                if lastWarning.map({ ContinuousClock.now - $0 >= .seconds(60) }) ?? true {
                    var details = metadata(delivery, holds)
                    details["retry.after"] = "\(delay)"
                    logger.warning("store unavailable; request held and tried again", metadata: details)
                    lastWarning = ContinuousClock.now
                }
                holds += 1
                try? await Task.sleep(for: delay)
                if draining.load(ordering: .relaxed) {
                    consumer.nack(delivery, requeue: true)
                    return
                }
            }
        }
    }

    private func metadata(_ delivery: Delivery, _ holds: Int) -> Logger.Metadata {
        ["notification.id": "\(delivery.messageId ?? "")", "attempts": "\(holds + 1)"]
    }
}
