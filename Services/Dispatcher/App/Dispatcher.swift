public import AMQP
import Foundation
import HeraldCore
public import Logging
public import ServiceLifecycle
public import Store
import Synchronization

/// herald-dispatcher's worker: consumes `herald.requests` and runs up to `concurrency`
/// requests at once. On graceful shutdown it stops taking deliveries, hands back every one it
/// has not started, finishes and acks the ones in progress, then closes its connections.
public final class Dispatcher: Service, Sendable {
    let configuration: DispatcherConfiguration
    let source: any RequestSource
    private let publisher: any DispatchPublisher
    let processor: RequestProcessor
    let logger: Logger
    /// Set once graceful shutdown begins: deliveries not started, and held ones, are handed back.
    let draining = Atomic<Bool>(false)
    /// Requests being processed now (`herald_dispatcher_in_flight`).
    let inFlight = Atomic<Int>(0)
    /// Copies of one notification are worked on one after the other.
    let oneCopyAtATime = OneCopyAtATime()
    /// Device sends waiting for the batch worker, and whether one runs (`runBatches`).
    let queued = Mutex<(sends: [DeviceSend], working: Bool)>(([], false))
    /// Deliveries handed back while draining, not started.
    let handedBack = Atomic<Int>(0)

    /// A worker on the broker of `configuration`, with its own consuming and publishing connections.
    public convenience init(configuration: DispatcherConfiguration, stores: Stores, logger: Logger) throws {
        let topology = Topology()
        let publisher = try AMQPPublisher(
            configuration: configuration.amqp,
            topology: topology,
            confirmTimeout: .seconds(10),
            name: "dispatcher-publish",
            logger: logger
        )
        let consumer = try AMQPConsumer(
            configuration: configuration.amqp,
            topology: topology,
            queue: Topology.requests,
            prefetch: configuration.prefetch,
            name: "dispatcher-consume",
            logger: logger
        )
        self.init(configuration: configuration, stores: stores, source: consumer, publisher: publisher, topology: topology, logger: logger)
    }

    /// A worker on the given source and publisher (tests pass their own).
    public init(
        configuration: DispatcherConfiguration,
        stores: Stores,
        source: any RequestSource,
        publisher: any DispatchPublisher,
        topology: Topology = Topology(),
        logger: Logger
    ) {
        self.configuration = configuration
        self.logger = logger
        self.source = source
        self.publisher = publisher
        processor = RequestProcessor(configuration: configuration, topology: topology, stores: stores, sink: publisher, logger: logger)
    }

    /// Both broker connections are open.
    public var isConnected: Bool { source.isConnected && publisher.isConnected }

    public func run() async throws {
        publisher.start()
        // Consume only once publishing works, so the first deliveries do not fail needlessly.
        _ = await publisher.waitUntilConnected(timeout: .seconds(10))
        source.start()
        logger.info(
            "dispatcher consuming",
            metadata: [
                "queue": "\(Topology.requests)", "prefetch": "\(configuration.prefetch)", "concurrency": "\(configuration.concurrency)",
                "throttle.policy": "\(configuration.throttle.policy.rawValue)",
            ]
        )
        DispatcherMetrics.inFlight(0)
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                // Tasks: one per delivery worked on alone, and the batch worker while it runs.
                var running = 0
                for await delivery in source.deliveries {
                    if running >= configuration.concurrency {
                        await group.next()
                        running -= 1
                    }
                    guard await admit(delivery) else {
                        if draining.load(ordering: .relaxed) { handedBack.add(1, ordering: .relaxed) }
                        continue
                    }
                    if let send = Self.deviceSend(delivery) {
                        if enqueue(send) {
                            running += 1
                            group.addTask { await self.runBatches() }
                        }
                        continue
                    }
                    running += 1
                    group.addTask { await self.handle(delivery) }
                }
                await group.waitForAll()
                let handedBack = handedBack.load(ordering: .relaxed)
                if handedBack > 0 { logger.info("handed back deliveries not started", metadata: ["deliveries": "\(handedBack)"]) }
            }
        } onGracefulShutdown: {
            self.logger.info("dispatcher draining: no new deliveries; handing back those not started, finishing those in progress")
            self.draining.store(true, ordering: .relaxed)
            self.source.stopDeliveries()
        }
        source.shutdown()
        publisher.shutdown()
        logger.info("dispatcher stopped")
    }

    /// Whether to start `delivery` now. A delivery of a connection that has since dropped is
    /// dropped (the broker is redelivering it); one that arrives while draining is handed back.
    /// While the broker holds publishes back (a resource alarm), nothing new starts.
    private func admit(_ delivery: Delivery) async -> Bool {
        var warned = false
        while !draining.load(ordering: .relaxed), source.isCurrent(delivery), publisher.isHeldBack {
            if !warned {
                logger.warning("broker holds publishes back (resource alarm); taking no new requests until it clears")
                warned = true
            }
            try? await Task.sleep(for: .milliseconds(100))
        }
        if warned { logger.info("broker takes publishes again; taking requests") }
        if draining.load(ordering: .relaxed) {
            source.giveBack(delivery)
            return false
        }
        guard source.isCurrent(delivery) else {
            letGo(delivery, reason: Self.skipped)
            return false
        }
        return true
    }

    /// Why a delivery whose connection dropped before it was started is let go.
    static let skipped = "delivery of a dropped connection skipped; the broker redelivers it"

    /// Says nothing to the broker about a delivery of a connection that has dropped: the broker
    /// put it back on the queue when the connection closed, and its tag means nothing any more.
    func letGo(_ delivery: Delivery, reason: String) {
        DispatcherMetrics.request("stale")
        logger.debug("\(reason)", metadata: ["notification.id": "\(delivery.messageId ?? "")"])
    }

    /// Works on one delivery until it is acked, handed back, let go or rejected.
    /// - Parameter first: what an earlier step (a batch) already found, instead of processing it first.
    func handle(_ delivery: Delivery, startingWith first: ProcessingOutcome? = nil) async {
        DispatcherMetrics.inFlight(inFlight.add(1, ordering: .relaxed).newValue)
        defer { DispatcherMetrics.inFlight(inFlight.subtract(1, ordering: .relaxed).newValue) }
        let copy = delivery.messageId ?? ""
        await oneCopyAtATime.enter(copy)
        defer { oneCopyAtATime.leave(copy) }
        var holds = 0
        var pace = WarningPace()
        let lease = DeliveryLease(delivery, from: source)
        var outcome = if let first { first } else { await processor.process(delivery, lease: lease) }
        while true {
            if Task.isCancelled, outcome != .ack {
                // The shutdown timeout ran out: whatever is left is another dispatcher's to do.
                source.giveBack(delivery)
                return
            }
            switch outcome {
            case .abandon:
                letGo(delivery, reason: "delivery of a dropped connection let go mid-way; the broker redelivered it")
                return
            case .ack:
                if holds > 0 { logger.info("store available again; held request processed", metadata: metadata(delivery, holds)) }
                source.ack(delivery)
                return
            case .retry(let delay):
                try? await Task.sleep(for: delay)
                source.reject(delivery, requeue: true)
                return
            case .finish(let write, let delay):
                guard await complete(write, after: delay, holds: &holds, metadata: ["notification.id": "\(copy)"]) else {
                    source.giveBack(delivery)
                    return
                }
                outcome = .ack
            case .hold(let delay):
                if pace.isDue() {
                    var details = metadata(delivery, holds)
                    details["retry.after"] = "\(delay)"
                    logger.warning("store unavailable; request held and tried again", metadata: details)
                }
                holds += 1
                try? await Task.sleep(for: delay)
                if draining.load(ordering: .relaxed) {
                    source.giveBack(delivery)
                    return
                } else if await !lease.isConfirmed() {
                    // Its connection dropped while it was held (or went silent, and the broker
                    // does not answer on it): the broker has given it to another dispatcher, which
                    // may be done with it by now. Nothing was published for it.
                    letGo(delivery, reason: "held delivery of a dropped connection let go; the broker redelivered it")
                    return
                } else {
                    outcome = await processor.process(delivery, lease: lease)
                }
            }
        }
    }

    /// Runs `write`, left after a confirmed publish, again after each pause until it is done:
    /// true then, false when the shutdown timeout cancelled the wait first (the caller hands its
    /// deliveries back). Only the write runs again, even while draining: running the request
    /// again would publish everything again.
    /// - Parameter holds: counts each pause, for the caller's "available again" line.
    func complete(_ write: PendingWrite, after delay: Duration, holds: inout Int, metadata: Logger.Metadata) async -> Bool {
        var pace = WarningPace()
        var write = write
        var delay = delay
        while !Task.isCancelled {
            if pace.isDue() {
                var details = metadata
                details["attempts"] = "\(holds + 1)"
                details["retry.after"] = "\(delay)"
                logger.warning("store unavailable; envelopes are out, only the status write is tried again", metadata: details)
            }
            holds += 1
            try? await Task.sleep(for: delay)
            guard case .finish(let next, let pause) = await write.run() else { return true }
            (write, delay) = (next, pause)
        }
        return false
    }

    private func metadata(_ delivery: Delivery, _ holds: Int) -> Logger.Metadata {
        ["notification.id": "\(delivery.messageId ?? "")", "attempts": "\(holds + 1)"]
    }
}
