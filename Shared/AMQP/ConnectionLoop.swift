import CRabbitMQ
import Foundation
import Logging

/// A thread that owns one broker connection and does everything on it:
/// publishes with confirms, acks, deliveries, heartbeats and reconnects.
///
/// Other threads hand it commands through a lock-protected queue and wake it
/// through a pipe; it waits on the socket and the pipe with `poll`, so no
/// blocking rabbitmq-c call ever runs on the cooperative pool or an event loop.
/// Shared state is guarded by `lock`; everything else is touched only by the
/// loop's own thread. Hence `@unchecked Sendable`.
final class ConnectionLoop: @unchecked Sendable {
    /// What this connection is for.
    struct Role: Sendable {
        var name: String
        var confirms: Bool
        var consume: (queue: String, prefetch: UInt16)?
    }

    enum Command {
        case publish([OutgoingMessage], PublishTicket)
        case ack(tag: UInt64, generation: UInt64, multiple: Bool)
        case nack(tag: UInt64, generation: UInt64, requeue: Bool)
        case stop
    }

    private struct Outstanding {
        let ticket: PublishTicket
        let messageId: String
    }

    let configuration: AMQPConfiguration
    let confirmTimeoutNanos: UInt64
    private let topology: Topology?
    private let role: Role
    private let logger: Logger
    private let onDelivery: (@Sendable (Delivery) -> Void)?
    private let onConnectionChange: (@Sendable (Bool) -> Void)?

    // Guarded by `lock`.
    private let lock = NSLock()
    private var commands: [Command] = []
    private var wakePending = false
    private var connectedFlag = false
    private var stopped = false

    private let wakeRead: Int32
    private let wakeWrite: Int32

    // Loop thread only.
    private var connection: RabbitMQConnection?
    private var generation: UInt64 = 0
    private var nextTag: UInt64 = 1
    private var lowestOutstanding: UInt64 = 1
    private var outstanding: [UInt64: Outstanding] = [:]
    private var ticketsByAge: [PublishTicket] = []
    private var ticketsHead = 0
    private var nextAttempt: UInt64 = 0
    private var backoffMillis = 100
    private var failedAttempts = 0

    init(
        configuration: AMQPConfiguration, topology: Topology?, role: Role, confirmTimeout: Duration,
        logger: Logger, onDelivery: (@Sendable (Delivery) -> Void)? = nil,
        onConnectionChange: (@Sendable (Bool) -> Void)? = nil
    ) throws(AMQPError) {
        self.configuration = configuration
        self.topology = topology
        self.role = role
        self.confirmTimeoutNanos = UInt64(confirmTimeout.components.seconds) * 1_000_000_000
            + UInt64(confirmTimeout.components.attoseconds / 1_000_000_000)
        self.logger = logger
        self.onDelivery = onDelivery
        self.onConnectionChange = onConnectionChange
        var fds: [Int32] = [0, 0]
        guard herald_wake_pipe(&fds) == 0 else {
            throw AMQPError.library(operation: "pipe", status: -1, message: "cannot create wake pipe")
        }
        wakeRead = fds[0]
        wakeWrite = fds[1]
    }

    deinit {
        close(wakeRead)
        close(wakeWrite)
    }

    /// Starts the loop's thread; it connects at once and reconnects with backoff.
    func start() {
        let thread = Thread { [self] in run() }
        thread.name = "herald-amqp-\(role.name)"
        thread.start()
    }

    /// Whether the connection is open and set up.
    var isConnected: Bool { lock.withLock { connectedFlag } }

    /// Hands a command to the loop.
    func submit(_ command: Command) {
        let (accepted, wake): (Bool, Bool) = lock.withLock {
            if stopped { return (false, false) }
            commands.append(command)
            let wake = !wakePending
            wakePending = true
            return (true, wake)
        }
        guard accepted else {
            if case .publish(_, let ticket) = command { ticket.fail(.shutdown) }
            return
        }
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
                defer { commands.removeAll(keepingCapacity: true); wakePending = false }
                return commands
            }
            for command in batch {
                if case .stop = command {
                    finish()
                    return
                }
                execute(command)
            }
            expireTickets()
            guard let connection else {
                let now = monotonicNanos()
                if now >= nextAttempt {
                    connect()
                } else {
                    waitForWake(socket: -1, timeoutMillis: Int(min(100, (nextAttempt - now) / 1_000_000 + 1)))
                }
                continue
            }
            do {
                var read = 0
                while read < 2000, let event = try connection.nextEvent(timeoutMillis: 0) {
                    try handle(event)
                    read += 1
                }
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
            guard let connection, role.confirms else {
                ticket.fail(.notConnected)
                return
            }
            do {
                for message in messages {
                    try connection.publish(message)
                    outstanding[nextTag] = Outstanding(ticket: ticket, messageId: message.messageId)
                    nextTag += 1
                }
                ticketsByAge.append(ticket)
            } catch {
                ticket.fail(error)
                lost(error)
            }
        case .ack(let tag, let gen, let multiple):
            guard let connection, gen == generation else { return }  // the broker requeued it already
            do { try connection.ack(tag, multiple: multiple) } catch { lost(error) }
        case .nack(let tag, let gen, let requeue):
            guard let connection, gen == generation else { return }
            do { try connection.nack(tag, requeue: requeue) } catch { lost(error) }
        case .stop:
            break
        }
    }

    private func handle(_ event: ConnectionEvent) throws(AMQPError) {
        switch event {
        case .ack(let tag, let multiple):
            settle(tag: tag, multiple: multiple) { $0.confirmOne() }
        case .nack(let tag, let multiple):
            settle(tag: tag, multiple: multiple) { $0.fail(.nacked) }
        case .returned(let messageId, let text):
            // A return comes before the ack of the same message; fail its publish call.
            if let messageId, let entry = outstanding.values.first(where: { $0.messageId == messageId && !$0.ticket.isResolved }) {
                entry.ticket.fail(.unroutable(replyText: text))
            }
        case .delivery(var delivery):
            delivery.generation = generation
            onDelivery?(delivery)
        case .closed(let error):
            throw error
        case .other:
            break
        }
    }

    private func settle(tag: UInt64, multiple: Bool, _ action: (PublishTicket) -> Void) {
        if multiple {
            var t = lowestOutstanding
            while t <= tag {
                if let entry = outstanding.removeValue(forKey: t) { action(entry.ticket) }
                t += 1
            }
            lowestOutstanding = max(lowestOutstanding, tag + 1)
        } else if let entry = outstanding.removeValue(forKey: tag) {
            action(entry.ticket)
            while lowestOutstanding < nextTag, outstanding[lowestOutstanding] == nil { lowestOutstanding += 1 }
        }
    }

    /// Fails publish calls the broker has not confirmed within the timeout. Every ticket
    /// has the same timeout, so they expire in the order they were made.
    private func expireTickets() {
        let now = monotonicNanos()
        while ticketsHead < ticketsByAge.count {
            let ticket = ticketsByAge[ticketsHead]
            if ticket.isResolved {
                ticketsHead += 1
            } else if ticket.deadline <= now {
                ticket.fail(.confirmTimeout)
                ticketsHead += 1
            } else {
                break
            }
        }
        if ticketsHead > 1024, ticketsHead * 2 > ticketsByAge.count {
            ticketsByAge.removeFirst(ticketsHead)
            ticketsHead = 0
        }
    }

    private func connect() {
        do {
            let connection = try RabbitMQConnection(configuration: configuration)
            try topology?.declare(on: connection)
            if role.confirms { try connection.confirmSelect() }
            if let consume = role.consume {
                try connection.qos(prefetch: consume.prefetch)
                try connection.consume(queue: consume.queue)
            }
            self.connection = connection
            generation += 1
            nextTag = 1
            lowestOutstanding = 1
            backoffMillis = 100
            if failedAttempts > 0 {
                logger.info("broker connection restored", metadata: ["amqp.role": "\(role.name)", "amqp.attempts": "\(failedAttempts)"])
            } else {
                logger.debug("broker connected", metadata: ["amqp.role": "\(role.name)", "amqp.broker": "\(configuration.redactedDescription)"])
            }
            failedAttempts = 0
            setConnected(true)
        } catch {
            failedAttempts += 1
            if failedAttempts == 1 || failedAttempts % 50 == 0 {
                logger.warning(
                    "cannot reach the broker named by HERALD_AMQP_URL; retrying",
                    metadata: ["amqp.role": "\(role.name)", "amqp.broker": "\(configuration.redactedDescription)",
                               "error": "\(error)", "amqp.attempts": "\(failedAttempts)"])
            }
            nextAttempt = monotonicNanos() + UInt64(backoffMillis) * 1_000_000
            backoffMillis = min(backoffMillis * 2, 2000)
        }
    }

    /// The connection is gone: every unconfirmed publish fails (the caller decides whether
    /// to retry), unacknowledged deliveries return to their queue at the broker.
    private func lost(_ error: any Error) {
        guard connection != nil else { return }
        logger.warning("broker connection lost", metadata: ["amqp.role": "\(role.name)", "error": "\(error)"])
        connection = nil
        failPending(.connectionLost)
        setConnected(false)
        nextAttempt = monotonicNanos() + UInt64(backoffMillis) * 1_000_000
    }

    private func failPending(_ error: AMQPError) {
        for entry in outstanding.values { entry.ticket.fail(error) }
        outstanding.removeAll()
        for ticket in ticketsByAge[ticketsHead...] { ticket.fail(error) }
        ticketsByAge.removeAll()
        ticketsHead = 0
    }

    private func finish() {
        let leftover: [Command] = lock.withLock {
            stopped = true
            defer { commands.removeAll() }
            return commands
        }
        for case .publish(_, let ticket) in leftover { ticket.fail(.shutdown) }
        failPending(.shutdown)
        connection = nil
        setConnected(false)
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
