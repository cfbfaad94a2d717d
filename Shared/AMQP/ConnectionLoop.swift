import CRabbitMQ
import Foundation
import HeraldCore
import Logging
import Synchronization

/// A thread that owns one broker connection and does everything on it:
/// publishes with confirms, acks, deliveries, heartbeats and reconnects.
///
/// Other threads hand it commands through a lock-protected queue and wake it
/// through a pipe; it waits on the socket and the pipe with `poll`, so no
/// blocking rabbitmq-c call ever runs on the cooperative pool or an event loop.
/// On a plain TCP connection, the publishes and acks of all the commands it finds at once leave
/// in one write (`RabbitMQConnection.flush()`), not a system call per frame.
/// Shared state is guarded by `lock` or atomic; everything else is touched only by
/// the loop's own thread. Hence `@unchecked Sendable`. Publish deadlines are kept by a
/// `DeadlineWatchdog`, so they hold even while this thread is stuck writing to a broker
/// that stopped reading.
final class ConnectionLoop: @unchecked Sendable {
    /// What this connection is for.
    struct Role: Sendable {
        var name: String
        var confirms: Bool
        var consume: (queue: String, prefetch: UInt16)?
        /// Publishes ride out a lost connection while another node may take them: one handed over
        /// while no connection is open waits for the next one, and a single-message publish left
        /// unconfirmed by a lost connection is sent again on it, until every node was tried once
        /// or the caller's deadline passes. Only for messages whose copy is harmless: ingest's
        /// requests (the dispatcher works on one copy of a notification id).
        var ridesOutFailover = false
    }

    enum Command {
        case publish([OutgoingMessage], PublishTicket)
        case ack(tag: UInt64, generation: UInt64, multiple: Bool)
        case reject(tag: UInt64, generation: UInt64, requeue: Bool)
        case nack(tag: UInt64, generation: UInt64, requeue: Bool)
        /// Cancel the consumer, hand back every delivery that still arrives, then call `then`.
        case stopConsuming(then: @Sendable () -> Void)
        /// Ask the broker something it answers at once (a consumer's `basic.qos`), so that a live
        /// connection shows it is live (`silence(of:)`) without waiting for a heartbeat.
        case ping
        case stop
    }

    private struct Outstanding {
        /// Nil for an alarm probe, which nobody waits for.
        let ticket: PublishTicket?
        let messageId: String
        /// Where it was sent: refusals are counted per queue (`refusingSince`).
        let routingKey: String
        /// The message, kept until confirmed when it may be sent again on the next connection.
        var message: OutgoingMessage? = nil
    }

    /// RabbitMQ tells a connection that a resource alarm blocks it (`connection.blocked`) only
    /// once it tries to publish. A publisher that has sent nothing for this long sends a probe, a
    /// message that routes nowhere and is dropped, so an alarm is known before a caller meets it.
    static let probeIntervalNanos: UInt64 = 1_000_000_000
    static let probe = OutgoingMessage(routingKey: "herald.alarm-probe", body: [], messageId: "herald-alarm-probe")

    let configuration: AMQPConfiguration
    let confirmTimeoutNanos: UInt64
    /// How long one write may take before the connection counts as stalled.
    private let stallNanos: UInt64
    /// The `connection_name` the broker shows for this connection.
    let connectionName: String
    private let topology: Topology?
    private let role: Role
    private let logger: Logger
    private let onDelivery: (@Sendable (Delivery) -> Void)?
    private let onConnectionChange: (@Sendable (Bool) -> Void)?
    private let watchdog: DeadlineWatchdog?

    // Guarded by `lock`.
    private let lock = NSLock()
    private var commands: [Command] = []
    private var wakePending = false
    private var connectedFlag = false
    private var stopped = false
    private var blockedReason: String?

    /// The generation of the open connection; 0 while there is none. Deliveries of any other
    /// generation were returned to the queue by the broker when their connection closed.
    private let liveGeneration = Atomic<UInt64>(0)
    /// A duplicate of the open connection's socket, for `silence(of:)`; -1 while there is none.
    /// Ours to close, after the generation is cleared: rabbitmq-c closes its own descriptor when it
    /// gives up on a connection, before this loop hears of it.
    private let liveSocket = Atomic<Int32>(-1)
    /// When the write in progress began (monotonic nanoseconds); 0 when none is.
    private let writingSince = Atomic<UInt64>(0)
    /// When the broker last refused a message (`basic.nack`, monotonic nanoseconds); 0 once it
    /// confirmed one since. A queue without a leader refuses everything while the connection looks
    /// healthy.
    private let lastRefusalAt = Atomic<UInt64>(0)
    /// How long after a refusal publishing counts as not working (readiness), unless a confirm
    /// comes first: long enough to cover a steady stream of refusals, short enough that a load
    /// balancer sends traffic again soon after the broker takes messages again.
    static let refusalMemoryNanos: UInt64 = 1_000_000_000
    /// A connection whose publishes to one routing key the broker has refused this long, with no
    /// confirm of one between, is opened again (on the next node), whatever it confirmed for other
    /// keys meanwhile. RabbitMQ 3.10 can leave a channel refusing messages to a quorum queue after
    /// the queue can take them again (a leader elected, an overflow cleared), while a new channel
    /// publishes fine; a dispatcher's batch for two push queues then had one confirmed and the
    /// other refused again and again.
    static let refusalReconnectNanos: UInt64 = 5_000_000_000

    private let wakeRead: Int32
    private let wakeWrite: Int32

    // Loop thread only.
    private var connection: RabbitMQConnection?
    private var generation: UInt64 = 0
    private var nextTag: UInt64 = 1
    private var lowestOutstanding: UInt64 = 1
    private var outstanding: [UInt64: Outstanding] = [:]
    /// Publishes waiting for the next connection (`Role.ridesOutFailover`), oldest first.
    private var parked: [(messages: [OutgoingMessage], ticket: PublishTicket)] = []
    private var nextAttempt: UInt64 = 0
    /// When this connection last published (monotonic nanoseconds), for alarm probes.
    private var lastPublishAt: UInt64 = 0
    private var backoffMillis = 100
    private var failedAttempts = 0
    /// For each routing key the broker refuses publishes to on this connection, when it began
    /// (no key: it confirmed the last one sent there, or refused none).
    private var refusingSince: [String: UInt64] = [:]
    /// The node of `configuration.nodes` tried next. Starts at a position that differs between
    /// processes and connections, so that services spread over a cluster's nodes; moves on after a
    /// failed attempt and after a lost connection.
    private var nodeIndex = Int(getpid()) &+ Int(UInt32.random(in: 0..<1024))
    /// False once the consumer was stopped: a reconnect does not consume again.
    private var consuming = true

    init(
        configuration: AMQPConfiguration,
        topology: Topology?,
        role: Role,
        confirmTimeout: Duration,
        logger: Logger,
        onDelivery: (@Sendable (Delivery) -> Void)? = nil,
        onConnectionChange: (@Sendable (Bool) -> Void)? = nil
    ) throws(AMQPError) {
        self.configuration = configuration
        self.topology = topology
        self.role = role
        self.connectionName = ConnectionName.make(role.name)
        self.confirmTimeoutNanos =
            UInt64(confirmTimeout.components.seconds) * 1_000_000_000
            + UInt64(confirmTimeout.components.attoseconds / 1_000_000_000)
        self.stallNanos = min(confirmTimeoutNanos, 1_000_000_000)
        self.logger = logger
        self.onDelivery = onDelivery
        self.onConnectionChange = onConnectionChange
        self.watchdog = role.confirms ? DeadlineWatchdog(threadName: ThreadName.make("amqp-dl-", role: role.name)) : nil
        var fds: [Int32] = [0, 0]
        guard herald_wake_pipe(&fds) == 0 else {
            throw AMQPError.library(operation: "pipe", status: -1, message: "cannot create wake pipe")
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
    }

    deinit {
        watchdog?.stop()
        close(wakeRead)
        close(wakeWrite)
    }

    /// Starts the loop's thread; it connects at once and reconnects with backoff.
    func start() {
        let thread = Thread { [self] in
            ThreadName.nameThisThread(ThreadName.make("amqp-", role: role.name))
            run()
        }
        thread.start()
    }

    /// Whether the connection is open and set up.
    var isConnected: Bool { lock.withLock { connectedFlag } }

    /// Why the broker blocks this connection's publishes (a resource alarm), or nil.
    var blocked: String? { lock.withLock { blockedReason } }

    /// Whether a write to the broker has been under way for longer than a healthy broker takes:
    /// it stopped reading from the socket (an alarm whose notice was not read yet, or a hang).
    var isStalled: Bool {
        let since = writingSince.load(ordering: .relaxed)
        return since != 0 && monotonicNanos() - since > stallNanos
    }

    /// Whether a publish handed over now can be written at once and taken: connected, not
    /// blocked, not stalled, and not refused by the broker in the last second.
    var acceptsPublishes: Bool {
        let (connected, blocked) = lock.withLock { (connectedFlag, blockedReason) }
        return connected && blocked == nil && !isStalled && !isRefusing
    }

    /// Whether the broker refused a message within `refusalMemoryNanos` and confirmed none since.
    var isRefusing: Bool {
        let at = lastRefusalAt.load(ordering: .relaxed)
        return at != 0 && monotonicNanos() &- at < Self.refusalMemoryNanos
    }

    /// Whether `delivery` came through the connection that is open now. Any other was handed back
    /// to its queue by the broker when its connection closed, and is being redelivered.
    func isCurrent(_ delivery: Delivery) -> Bool {
        delivery.generation != 0 && delivery.generation == liveGeneration.load(ordering: .sequentiallyConsistent)
    }

    /// How long the broker has sent nothing on the connection `delivery` came through (as the
    /// kernel counts it, so heartbeats count too), or nil once that connection is not the open one.
    /// While the broker is there, it sends at least a heartbeat every half heartbeat interval, and
    /// it answers a `.ping` at once.
    func silence(of delivery: Delivery) -> Duration? {
        guard isCurrent(delivery) else { return nil }
        let millis = herald_millis_since_received(liveSocket.load(ordering: .sequentiallyConsistent))
        // Asked again: had the connection been replaced meanwhile, the descriptor read may have
        // been another socket's (its number reused); the generation is cleared before it is closed.
        guard millis >= 0, isCurrent(delivery) else { return nil }
        return .milliseconds(millis)
    }

    /// Hands a command to the loop. A publish the broker cannot take now (blocked by an alarm,
    /// or the connection stalled) fails at once instead of waiting for its deadline.
    func submit(_ command: Command) {
        if case .publish(_, let ticket) = command {
            if let reason = blocked {
                ticket.fail(.blocked(reason: reason))
                return
            }
            if isStalled {
                ticket.fail(.stalled)
                return
            }
        }
        let (accepted, wake): (Bool, Bool) = lock.withLock {
            if stopped { return (false, false) }
            commands.append(command)
            let wake = !wakePending
            wakePending = true
            return (true, wake)
        }
        guard accepted else {
            Self.refuse(command)
            return
        }
        if case .publish(_, let ticket) = command { watchdog?.watch(ticket) }
        if wake {
            var byte: UInt8 = 1
            _ = write(wakeWrite, &byte, 1)
        }
    }

    /// Absolute deadline for a publish made now.
    func newDeadline() -> UInt64 { monotonicNanos() + confirmTimeoutNanos }

    // MARK: The loop

    private func run() {
        while true {
            let batch: [Command] = lock.withLock {
                defer {
                    commands.removeAll(keepingCapacity: true)
                    wakePending = false
                }
                return commands
            }
            for command in batch {
                if case .stop = command {
                    finish()
                    return
                }
                execute(command)
            }
            guard let connection else {
                parked.removeAll { $0.ticket.isResolved }
                let now = monotonicNanos()
                if now >= nextAttempt {
                    connect()
                } else {
                    waitForWake(socket: -1, timeoutMillis: Int(min(100, (nextAttempt - now) / 1_000_000 + 1)))
                }
                continue
            }
            do {
                // What this iteration's commands made (publishes, acks) leaves in one write.
                try flushPending(connection)
                var read = 0
                while read < 2000, let event = try connection.nextEvent(timeoutMillis: 0) {
                    try handle(event)
                    read += 1
                }
                if role.confirms { try probeIfIdle(connection) }
                try flushPending(connection)
                connection.releaseBuffers()
                if !connection.hasBufferedInput && read < 2000 {
                    waitForWake(socket: connection.socketDescriptor, timeoutMillis: 50)
                }
            } catch {
                lost(error)
            }
        }
    }

    private func execute(_ command: Command) {
        switch command {
        case .publish(let messages, let ticket):
            publish(messages, ticket)
        case .ack(let tag, let gen, let multiple):
            guard let connection, gen == generation else { return }  // the broker requeued it already
            do { try connection.ack(tag, multiple: multiple) } catch { lost(error) }
        case .reject(let tag, let gen, let requeue):
            guard let connection, gen == generation else { return }
            do { try connection.reject(tag, requeue: requeue) } catch { lost(error) }
        case .nack(let tag, let gen, let requeue):
            guard let connection, gen == generation else { return }
            do { try connection.nack(tag, requeue: requeue) } catch { lost(error) }
        case .stopConsuming(let then):
            consuming = false
            if let connection {
                do { try connection.cancelConsumer() } catch { lost(error) }
            }
            then()
        case .ping:
            guard let connection, let consume = role.consume else { return }
            do { try connection.askQos(prefetch: consume.prefetch) } catch { lost(error) }
        case .stop:
            break
        }
    }

    private func publish(_ messages: [OutgoingMessage], _ ticket: PublishTicket, again: Bool = false) {
        if connection == nil, role.confirms, mayPark {
            parked.append((messages, ticket))
            return
        }
        // A first try must find the ticket untouched: its deadline may have passed while it waited,
        // and then nothing of it may be sent. One sent again was written before and is unresolved.
        guard again ? !ticket.isResolved : ticket.claimForWriting() else { return }
        guard let connection, role.confirms else {
            ticket.fail(unsent: .notConnected, sent: .connectionLost)
            return
        }
        if let reason = blocked {
            ticket.fail(.blocked(reason: reason))
            return
        }
        lastPublishAt = monotonicNanos()
        writingSince.store(lastPublishAt, ordering: .relaxed)
        defer { writingSince.store(0, ordering: .relaxed) }
        for (index, message) in messages.enumerated() {
            do {
                try connection.publish(message)
            } catch {
                if index == 0, role.ridesOutFailover {
                    // Nothing of it reached the broker: it waits for the next connection.
                    lost(error)
                    publish(messages, ticket, again: true)
                    return
                }
                // Earlier messages of the batch went out and may be confirmed yet.
                ticket.fail(index == 0 ? error : .connectionLost)
                lost(error)
                return
            }
            let keep = role.ridesOutFailover && messages.count == 1
            outstanding[nextTag] = Outstanding(
                ticket: ticket,
                messageId: message.messageId,
                routingKey: message.routingKey,
                message: keep ? message : nil
            )
            nextTag += 1
        }
    }

    /// Writes the frames made since the last write. A write the broker does not take within
    /// `stallNanos` marks the connection stalled (`isStalled`).
    private func flushPending(_ connection: RabbitMQConnection) throws(AMQPError) {
        guard connection.hasPendingOutput else { return }
        writingSince.store(monotonicNanos(), ordering: .relaxed)
        defer { writingSince.store(0, ordering: .relaxed) }
        try connection.flush()
    }

    /// Sends an alarm probe when nothing was published for a while and no alarm is known.
    private func probeIfIdle(_ connection: RabbitMQConnection) throws(AMQPError) {
        let now = monotonicNanos()
        guard now - lastPublishAt >= Self.probeIntervalNanos, blocked == nil else { return }
        lastPublishAt = now
        try connection.publish(Self.probe, mandatory: false)
        outstanding[nextTag] = Outstanding(ticket: nil, messageId: Self.probe.messageId, routingKey: Self.probe.routingKey)
        nextTag += 1
    }

    private func handle(_ event: ConnectionEvent) throws(AMQPError) {
        switch event {
        case .ack(let tag, let multiple):
            // Only a confirm of a real publish counts: the alarm probe routes nowhere, so it is
            // confirmed even while every queue refuses messages.
            settle(tag: tag, multiple: multiple) { ticket, routingKey in
                lastRefusalAt.store(0, ordering: .relaxed)
                refusingSince[routingKey] = nil
                ticket.confirmOne()
            }
        case .nack(let tag, let multiple):
            let now = monotonicNanos()
            lastRefusalAt.store(now, ordering: .relaxed)
            var oldest: (key: String, since: UInt64)?
            settle(tag: tag, multiple: multiple) { ticket, routingKey in
                ticket.fail(.nacked)
                let since = refusingSince[routingKey] ?? now
                refusingSince[routingKey] = since
                if since < oldest?.since ?? .max { oldest = (routingKey, since) }
            }
            if let oldest, now - oldest.since > Self.refusalReconnectNanos {
                throw AMQPError.server(
                    operation: "basic.publish",
                    code: 0,
                    text: "every message to \(oldest.key) refused for 5 s; opening the connection again"
                )
            }
        case .returned(let messageId, let text):
            // A return comes before the ack of the same message; fail its publish call.
            if let messageId,
                let ticket = outstanding.values.first(where: { $0.messageId == messageId && $0.ticket?.isResolved == false })?.ticket
            {
                ticket.fail(.unroutable(replyText: text))
            }
        case .delivery(var delivery):
            guard consuming else {
                // Already on its way when the consumer was cancelled: straight back to the queue.
                try connection?.nack(delivery.deliveryTag, requeue: true)
                return
            }
            delivery.generation = generation
            onDelivery?(delivery)
        case .blocked(let reason):
            lock.withLock { blockedReason = reason }
            logger.warning(
                "the broker blocks publishing (resource alarm); publishes fail until it clears",
                metadata: [
                    "amqp.role": "\(role.name)", "amqp.blocked.reason": "\(reason)",
                ]
            )
        case .unblocked:
            lock.withLock { blockedReason = nil }
            logger.info("the broker accepts publishes again", metadata: ["amqp.role": "\(role.name)"])
        case .closed(let error):
            throw error
        case .other:
            break
        }
    }

    /// Settles the publishes a confirm or refusal covers; `action` gets each one's ticket and
    /// routing key (not the alarm probe's: nobody waits for it).
    private func settle(tag: UInt64, multiple: Bool, _ action: (PublishTicket, String) -> Void) {
        if multiple {
            var t = lowestOutstanding
            while t <= tag {
                if let entry = outstanding.removeValue(forKey: t), let ticket = entry.ticket { action(ticket, entry.routingKey) }
                t += 1
            }
            lowestOutstanding = max(lowestOutstanding, tag + 1)
        } else if let entry = outstanding.removeValue(forKey: tag) {
            if let ticket = entry.ticket { action(ticket, entry.routingKey) }
            while lowestOutstanding < nextTag, outstanding[lowestOutstanding] == nil { lowestOutstanding += 1 }
        }
    }

    private func connect() {
        let node = configuration.aimed(at: nodeIndex)
        do {
            let connection = try RabbitMQConnection(configuration: node, name: connectionName)
            try topology?.declare(on: connection)
            if role.confirms { try connection.confirmSelect() }
            if let consume = role.consume, consuming {
                try connection.qos(prefetch: consume.prefetch)
                try connection.consume(queue: consume.queue)
            }
            self.connection = connection
            generation += 1
            liveSocket.store(dup(connection.socketDescriptor), ordering: .sequentiallyConsistent)
            liveGeneration.store(generation, ordering: .sequentiallyConsistent)
            nextTag = 1
            lowestOutstanding = 1
            lastPublishAt = 0
            backoffMillis = 100
            // A generation above 1: a connection was open before, so this one restores it.
            if failedAttempts > 0 || generation > 1 {
                logger.info(
                    "broker connection restored",
                    metadata: [
                        "amqp.role": "\(role.name)", "amqp.attempts": "\(failedAttempts)", "amqp.broker": "\(node.redactedDescription)",
                    ]
                )
            } else {
                logger.info("broker connected", metadata: ["amqp.role": "\(role.name)", "amqp.broker": "\(node.redactedDescription)"])
            }
            failedAttempts = 0
            refusingSince.removeAll()
            setConnected(true)
            let waiting = parked
            parked.removeAll()
            for (messages, ticket) in waiting { publish(messages, ticket, again: true) }
        } catch {
            failedAttempts += 1
            nodeIndex &+= 1
            if !mayPark { failParked() }
            if failedAttempts == 1 || failedAttempts % 50 == 0 {
                logger.warning(
                    "cannot reach the broker named by HERALD_AMQP_URL; retrying",
                    metadata: [
                        "amqp.role": "\(role.name)", "amqp.broker": "\(node.redactedDescription)",
                        "error": "\(error)", "amqp.attempts": "\(failedAttempts)",
                    ]
                )
            }
            nextAttempt = monotonicNanos() + UInt64(backoffMillis) * 1_000_000
            backoffMillis = min(backoffMillis * 2, 2000)
        }
    }

    /// The connection is gone: every unconfirmed publish fails (the caller decides whether
    /// to retry), unacknowledged deliveries return to their queue at the broker.
    private func lost(_ error: any Error) {
        guard connection != nil else { return }
        logger.warning(
            "broker connection lost",
            metadata: [
                "amqp.role": "\(role.name)", "error": "\(error)",
                "amqp.broker": "\(configuration.aimed(at: nodeIndex).redactedDescription)",
            ]
        )
        nodeIndex &+= 1
        connection = nil
        releaseLiveSocket()
        lock.withLock { blockedReason = nil }
        if role.ridesOutFailover {
            // Unconfirmed single messages go again on the next connection, in the order they went.
            for tag in outstanding.keys.sorted() {
                guard let entry = outstanding[tag], let ticket = entry.ticket, !ticket.isResolved else { continue }
                if let message = entry.message { parked.append(([message], ticket)) } else { ticket.fail(.connectionLost) }
            }
            outstanding.removeAll()
        } else {
            failOutstanding(.connectionLost)
        }
        setConnected(false)
        // Another node of a cluster is likely up: try it at once. One node is given a moment.
        nextAttempt = monotonicNanos() + (configuration.nodes.count > 1 ? 0 : UInt64(backoffMillis) * 1_000_000)
    }

    /// Whether a publish may wait for the next connection: the role rides out a failover and not
    /// every node was tried since the last connection was lost.
    private var mayPark: Bool { role.ridesOutFailover && failedAttempts < configuration.nodes.count }

    /// No node took the connection: publishes waiting for it fail now, as new ones will at once.
    private func failParked() {
        for (_, ticket) in parked { ticket.fail(unsent: .notConnected, sent: .connectionLost) }
        parked.removeAll()
    }

    /// The connection's deliveries stop being current, then the duplicate of its socket is closed
    /// (see `silence(of:)`).
    private func releaseLiveSocket() {
        liveGeneration.store(0, ordering: .sequentiallyConsistent)
        let socket = liveSocket.exchange(-1, ordering: .sequentiallyConsistent)
        if socket >= 0 { close(socket) }
    }

    private func failOutstanding(_ error: AMQPError) {
        for entry in outstanding.values { entry.ticket?.fail(error) }
        outstanding.removeAll()
    }

    private func finish() {
        // Acks handed over before the stop leave before the connection closes: else the broker
        // would deliver what was done again.
        if let connection {
            do { try flushPending(connection) } catch { lost(error) }
        }
        let leftover: [Command] = lock.withLock {
            stopped = true
            defer { commands.removeAll() }
            return commands
        }
        for command in leftover { Self.refuse(command) }
        failOutstanding(.shutdownBeforeConfirm)
        for (_, ticket) in parked { ticket.fail(unsent: .shutdown, sent: .shutdownBeforeConfirm) }
        parked.removeAll()
        connection = nil
        releaseLiveSocket()
        watchdog?.stop()
        setConnected(false)
    }

    /// Answers a command the stopped loop will never run: a publish fails as not sent, and a
    /// stop of the consumer counts as done (closing the connection ends its deliveries anyway).
    private static func refuse(_ command: Command) {
        switch command {
        case .publish(_, let ticket): ticket.fail(.shutdown)
        case .stopConsuming(let then): then()
        case .ack, .reject, .nack, .ping, .stop: break
        }
    }

    private func setConnected(_ value: Bool) {
        lock.withLock { connectedFlag = value }
        onConnectionChange?(value)
    }

    private func waitForWake(socket: Int32, timeoutMillis: Int) {
        var socketReady: Int32 = 0
        var wakeReady: Int32 = 0
        _ = herald_poll2(socket, wakeRead, Int32(timeoutMillis), &socketReady, &wakeReady)
        if wakeReady != 0 {
            var buffer = [UInt8](repeating: 0, count: 64)
            while read(wakeRead, &buffer, 64) > 0 {}
        }
    }
}

/// Names of broker connections as the broker shows them (`connection_name`), e.g.
/// `herald-dispatcher[4242] dispatcher-consume#3`: the process, its id, the role and a counter.
enum ConnectionName {
    private static let counter = Atomic<Int>(0)

    static func make(_ role: String) -> String {
        let number = counter.add(1, ordering: .relaxed).newValue
        return "\(ProcessInfo.processInfo.processName)[\(getpid())] \(role)#\(number)"
    }
}
