public import AMQP
import Foundation
public import HeraldCore
public import Logging
public import ServiceLifecycle
public import Store
import Synchronization

/// herald-gateway's worker: consumes `herald.push.ios` and `herald.push.android` (the platforms
/// it has credentials for), pushes each envelope to APNs or FCM with up to `concurrency` pushes
/// in flight per platform, and acks an envelope only once its outcome is final and recorded:
/// - sent: recorded in the ledger (so a copy is not pushed again, by any gateway), then acked;
/// - token gone: the device's token cleared if it is still that one, then acked;
/// - retry (429, 5xx, no answer): published to a retry queue (confirmed), then acked;
/// - failed: published to `herald.push.dead` with the reason (confirmed), then acked;
/// - expired before its push: acked and counted;
/// - credentials refused twice: handed back, and that platform stops (not ready) until restart.
public final class Gateway: Service, Sendable {
    private let configuration: GatewayConfiguration
    private let stores: Stores
    private let sender: PushSender
    private let publisher: AMQPPublisher
    private let consumers: [(route: PushRoute, consumer: AMQPConsumer)]
    private let topology: Topology
    private let logger: Logger
    private let sentLog: GroupCommit<SentEntry, Void>
    /// Looks envelope ids up in the ledger, the concurrent pushes' ids in one query.
    private let sentLookup: GroupCommit<String, Bool>
    private let tallies = Mutex<[String: DeliveryTally]>([:])
    private let halted = Mutex<[PushRoute: String]>([:])
    private let draining = Atomic<Bool>(false)
    private let inFlight = Mutex<[PushRoute: Int]>([:])

    struct SentEntry: Sendable {
        var id: String
        var keepUntil: Date
    }

    public init(configuration: GatewayConfiguration, stores: Stores, logger: Logger) async throws {
        self.configuration = configuration
        self.stores = stores
        self.logger = logger
        let topology = Topology()
        self.topology = topology
        sender = try await PushSender(settings: configuration.push)
        publisher = try AMQPPublisher(
            configuration: configuration.amqp,
            topology: topology,
            confirmTimeout: .seconds(10),
            name: "gateway-publish",
            logger: logger
        )
        var consumers: [(PushRoute, AMQPConsumer)] = []
        for (route, queue) in [(PushRoute.ios, Topology.pushIOS), (.android, Topology.pushAndroid)] {
            guard route == .ios ? configuration.push.apns != nil : configuration.push.fcm != nil else { continue }
            let consumer = try AMQPConsumer(
                configuration: configuration.amqp,
                topology: topology,
                queue: queue,
                prefetch: configuration.concurrency,
                name: "gateway-\(route.rawValue)",
                logger: logger
            )
            consumers.append((route, consumer))
        }
        self.consumers = consumers
        let ledger = stores.pushLedger
        sentLog = GroupCommit(
            limit: 512,
            parallel: 2,
            writeAll: { entries in try await ledger.recordSent(entries.map { ($0.id, $0.keepUntil) }) }
        )
        sentLookup = GroupCommit(limit: 512, parallel: 2) { ids in
            let sent = try await ledger.sent(among: ids, now: Date())
            return ids.map(sent.contains)
        }
    }

    /// Connected to the broker, and no platform stopped for refused credentials.
    public var isReady: Bool {
        publisher.isConnected && consumers.allSatisfy { $0.consumer.isConnected } && halted.withLock { $0.isEmpty }
    }

    /// Why a platform stopped, by platform (empty while all push).
    public var haltedPlatforms: [PushRoute: String] { halted.withLock { $0 } }

    public func run() async throws {
        publisher.start()
        _ = await publisher.waitUntilConnected(timeout: .seconds(10))
        for (route, consumer) in consumers {
            consumer.start()
            GatewayMetrics.halted(route, false)
        }
        logger.info(
            "gateway consuming",
            metadata: [
                "platforms": "\(consumers.map(\.route.rawValue).joined(separator: ","))", "concurrency": "\(configuration.concurrency)",
            ]
        )
        let flusher = Task { await self.flushTallies() }
        await withGracefulShutdownHandler {
            await withTaskGroup(of: Void.self) { group in
                for (route, consumer) in consumers { group.addTask { await self.consume(route, consumer) } }
            }
            // Every platform stopped for refused credentials: stay up, not ready, until told to stop,
            // so that the orchestrator shows why rather than a restart loop.
            if !draining.load(ordering: .relaxed) { try? await gracefulShutdown() }
        } onGracefulShutdown: {
            self.logger.info("gateway draining: no new envelopes; finishing the pushes in flight")
            self.draining.store(true, ordering: .relaxed)
            for (_, consumer) in self.consumers { consumer.stopDeliveries() }
        }
        flusher.cancel()
        await flusher.value
        await flushTalliesOnce()
        for (_, consumer) in consumers { consumer.shutdown() }
        publisher.shutdown()
        try? await sender.shutdown()
        logger.info("gateway stopped")
    }

    private func consume(_ route: PushRoute, _ consumer: AMQPConsumer) async {
        await withTaskGroup(of: Void.self) { group in
            var running = 0
            for await delivery in consumer.deliveries {
                if draining.load(ordering: .relaxed) || halted.withLock({ $0[route] != nil }) {
                    consumer.giveBack(delivery)
                    continue
                }
                guard consumer.isCurrent(delivery) else { continue }
                if running >= configuration.concurrency {
                    await group.next()
                    running -= 1
                }
                running += 1
                group.addTask { await self.handle(delivery, route: route, consumer: consumer) }
            }
            await group.waitForAll()
        }
    }

    private func handle(_ delivery: Delivery, route: PushRoute, consumer: AMQPConsumer) async {
        let envelope: PushEnvelope
        do {
            envelope = try PushEnvelope(json: delivery.body)
        } catch {
            logger.error(
                "envelope unreadable; dead-lettered",
                metadata: ["envelope.id": "\(delivery.messageId ?? "")", "error": "\(error)"]
            )
            await finish(delivery, consumer: consumer, movingTo: Topology.pushDead, reason: "MalformedEnvelope", attempts: nil)
            return
        }
        let now = Date()
        if envelope.expiresAt <= now {
            GatewayMetrics.push(route, "expired")
            tally(envelope.notificationId) { $0.expired += 1 }
            consumer.ack(delivery)
            return
        }
        if await durably("sent-envelope lookup", { try await self.sentLookup.submit(envelope.id) }) {
            GatewayMetrics.push(route, "duplicate")
            consumer.ack(delivery)
            return
        }

        inFlight(route, +1)
        let start = ContinuousClock.now
        let outcome = await sender.send(envelope)
        GatewayMetrics.latency(route, since: start)
        inFlight(route, -1)
        GatewayMetrics.push(route, outcome.metricName)
        switch outcome {
        case .sent:
            await durably("sent-envelope record") {
                try await self.sentLog.submit(SentEntry(id: envelope.id, keepUntil: envelope.expiresAt))
            }
            tally(envelope.notificationId) { $0.sent += 1 }
            consumer.ack(delivery)
        case .tokenGone(let reason):
            let cleared = await durably("push-token clearing") {
                try await self.stores.pushLedger.clearPushToken(
                    tenantId: envelope.tenantId,
                    deviceId: envelope.deviceId,
                    ifStill: envelope.pushToken
                )
            }
            logger.info(
                "push token gone",
                metadata: [
                    "platform": "\(route.rawValue)", "reason": "\(reason)", "tenant.id": "\(envelope.tenantId)",
                    "device.id": "\(envelope.deviceId)", "token.cleared": "\(cleared)",
                ]
            )
            tally(envelope.notificationId) { $0.failed[reason, default: 0] += 1 }
            consumer.ack(delivery)
        case .failed(let reason):
            logger.warning(
                "push refused; dead-lettered",
                metadata: ["platform": "\(route.rawValue)", "reason": "\(reason)", "envelope.id": "\(envelope.id)"]
            )
            if await finish(delivery, consumer: consumer, movingTo: Topology.pushDead, reason: reason, attempts: nil) {
                tally(envelope.notificationId) { $0.failed[reason, default: 0] += 1 }
            }
        case .retry(let reason, let after):
            await retry(delivery, envelope: envelope, route: route, consumer: consumer, reason: reason, after: after)
        case .credentialsRefused(let reason):
            halt(route, reason: reason, consumer: consumer)
            consumer.giveBack(delivery)
        }
    }

    /// Sends an envelope the service asked to have later through a retry queue (the bucket
    /// at least as long as its `Retry-After`, else growing with the attempts); after
    /// `maxAttempts` it is dead-lettered, and one that would come back expired is counted so.
    private func retry(
        _ delivery: Delivery,
        envelope: PushEnvelope,
        route: PushRoute,
        consumer: AMQPConsumer,
        reason: String,
        after: Duration?
    ) async {
        var attempts = 1
        if case .int(let n) = delivery.headers[Topology.pushAttemptsHeader] { attempts = Int(n) + 1 }
        guard attempts < configuration.maxAttempts else {
            logger.warning(
                "push still refused after every attempt; dead-lettered",
                metadata: [
                    "platform": "\(route.rawValue)", "reason": "\(reason)", "attempts": "\(attempts)", "envelope.id": "\(envelope.id)",
                ]
            )
            if await finish(delivery, consumer: consumer, movingTo: Topology.pushDead, reason: reason, attempts: attempts) {
                tally(envelope.notificationId) { $0.failed[reason, default: 0] += 1 }
            }
            return
        }
        let backoff = topology.pushRetryBuckets[min(attempts - 1, topology.pushRetryBuckets.count - 1)]
        let wanted = max(Double(backoff), after.map { Double($0.components.seconds) } ?? 0)
        let bucket = topology.pushRetryBucket(for: wanted)
        if envelope.expiresAt <= Date().addingTimeInterval(Double(bucket)) {
            GatewayMetrics.push(route, "expired")
            tally(envelope.notificationId) { $0.expired += 1 }
            consumer.ack(delivery)
            return
        }
        let queue = Topology.pushRetryQueue(route == .ios ? Topology.pushIOS : Topology.pushAndroid, seconds: bucket)
        await finish(delivery, consumer: consumer, movingTo: queue, reason: reason, attempts: attempts)
    }

    /// Publishes a copy of `delivery` to `queue` and, once the broker confirmed it, acks the
    /// original; if the broker would not take it, the original is handed back. Whether it moved.
    @discardableResult
    private func finish(_ delivery: Delivery, consumer: AMQPConsumer, movingTo queue: String, reason: String, attempts: Int?) async -> Bool
    {
        var headers: [String: AMQPHeaderValue] = [Topology.reasonHeader: .string(reason)]
        if let attempts { headers[Topology.pushAttemptsHeader] = .int(Int64(attempts)) }
        let copy = OutgoingMessage(routingKey: queue, body: delivery.body, messageId: delivery.messageId ?? "", headers: headers)
        do {
            try await publisher.publish(copy)
            consumer.ack(delivery)
            return true
        } catch {
            logger.warning("could not move an envelope; handed back", metadata: ["queue": "\(queue)", "error": "\(error)"])
            consumer.giveBack(delivery)
            return false
        }
    }

    /// Stops a platform whose service refused the gateway's credentials twice: nothing is dropped.
    private func halt(_ route: PushRoute, reason: String, consumer: AMQPConsumer) {
        let first = halted.withLock { stopped in
            guard stopped[route] == nil else { return false }
            stopped[route] = reason
            return true
        }
        guard first else { return }
        GatewayMetrics.halted(route, true)
        consumer.stopDeliveries()
        let service = route == .ios ? "APNs" : "FCM"
        let keys = route == .ios ? "HERALD_APNS_*" : "HERALD_FCM_CREDENTIALS_PATH"
        logger.critical(
            "\(service) refused the gateway's credentials after a renewal; \(route.rawValue) pushes stopped, nothing dropped: fix \(keys) and restart",
            metadata: ["platform": "\(route.rawValue)", "reason": "\(reason)"]
        )
    }

    /// Runs a store call until it succeeds: a push that happened must be recorded, whatever the
    /// wait. Waits a second between tries while the store is unavailable.
    private func durably<T: Sendable>(_ what: String, _ work: @escaping @Sendable () async throws -> T) async -> T {
        var warned = false
        while true {
            do {
                return try await work()
            } catch {
                if !warned {
                    logger.warning("store call failed; trying again every second", metadata: ["call": "\(what)", "error": "\(error)"])
                    warned = true
                }
                try? await Task.sleep(for: .seconds(1))
            }
        }
    }

    private func tally(_ notificationId: String, _ change: (inout DeliveryTally) -> Void) {
        tallies.withLock { change(&$0[notificationId, default: DeliveryTally()]) }
    }

    private func inFlight(_ route: PushRoute, _ change: Int) {
        let value = inFlight.withLock { counts in
            counts[route, default: 0] += change
            return counts[route, default: 0]
        }
        GatewayMetrics.inFlight(route, value)
    }

    /// Adds the tallies to the statuses every second, in one batch.
    private func flushTallies() async {
        while !Task.isCancelled {
            try? await Task.sleep(for: .seconds(1))
            await flushTalliesOnce()
            if let tokens = sender.apnsTokens { GatewayMetrics.credentialsMade(.ios, await tokens.made) }
            if let tokens = sender.fcmTokens { GatewayMetrics.credentialsMade(.android, await tokens.made) }
        }
    }

    private func flushTalliesOnce() async {
        let batch = tallies.withLock { current in
            let taken = current
            current = [:]
            return taken
        }
        guard !batch.isEmpty else { return }
        do {
            try await stores.pushLedger.addDelivery(batch)
        } catch {
            // Kept for the next flush.
            tallies.withLock { current in
                for (id, tally) in batch { current[id, default: DeliveryTally()].add(tally) }
            }
            logger.warning("delivery counts not written; kept for the next try", metadata: ["error": "\(error)"])
        }
    }
}
