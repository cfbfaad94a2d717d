public import Logging

/// Publishes persistent messages with publisher confirms and `mandatory` set.
///
/// Many callers share one connection: each `publish` waits only for the
/// broker's confirm of its own messages while others are in flight, which is
/// what lets ingest answer each request after its own confirm at a high rate.
public final class AMQPPublisher: Sendable {
    private let loop: ConnectionLoop

    /// - Parameters:
    ///   - topology: declared on every (re)connect; nil declares nothing.
    ///   - confirmTimeout: how long a publish waits for its confirm before failing.
    ///   - ridesOutFailover: a publish waits for the next connection (to the next node of a
    ///     cluster) instead of failing when the connection is lost, within its deadline; a
    ///     single-message publish left unconfirmed is sent again. Only where a copy is harmless.
    public init(
        configuration: AMQPConfiguration,
        topology: Topology?,
        confirmTimeout: Duration = .milliseconds(1500),
        name: String = "publisher",
        ridesOutFailover: Bool = false,
        logger: Logger
    ) throws {
        loop = try ConnectionLoop(
            configuration: configuration,
            topology: topology,
            role: .init(name: name, confirms: true, consume: nil, ridesOutFailover: ridesOutFailover),
            confirmTimeout: confirmTimeout,
            logger: logger
        )
    }

    /// Starts the connection thread; it keeps reconnecting with backoff until `shutdown()`.
    public func start() { loop.start() }

    /// Whether the publishing channel is open right now.
    public var isConnected: Bool { loop.isConnected }

    /// Whether a publish made now can go out at once: connected, not blocked by a broker resource
    /// alarm, and not stuck writing to a broker that stopped reading. Readiness follows this.
    public var canPublish: Bool { loop.acceptsPublishes }

    /// Whether publishes cannot go out now although the connection is open: blocked or stalled.
    public var isHeldBack: Bool { loop.blocked != nil || loop.isStalled }

    /// Waits until connected, or until `timeout` passes; returns whether connected.
    public func waitUntilConnected(timeout: Duration) async -> Bool {
        let deadline = ContinuousClock.now + timeout
        while !isConnected {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(20))
        }
        return true
    }

    /// Publishes one message and returns once the broker has confirmed it.
    /// Throws an `AMQPError`: not connected, blocked or stalled (not sent), nacked, unroutable,
    /// or, when it may have reached the broker, timeout, lost connection or shutdown
    /// (`AMQPError.mayHaveReachedBroker`). The deadline holds even if the broker stops reading.
    public func publish(_ message: OutgoingMessage) async throws {
        try await publish(batch: [message])
    }

    /// Publishes messages in order and returns once the broker has confirmed all of them;
    /// throws if any was refused. Confirms of the batch arrive together, often as one `multiple` ack.
    public func publish(batch: [OutgoingMessage]) async throws {
        guard !batch.isEmpty else { return }
        let deadline = loop.newDeadline()
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
            let ticket = PublishTicket(count: batch.count, deadline: deadline, continuation: continuation)
            loop.submit(.publish(batch, ticket))
        }
    }

    /// Stops the connection thread; publishes still waiting fail with `AMQPError.shutdown`.
    public func shutdown() { loop.submit(.stop) }
}
