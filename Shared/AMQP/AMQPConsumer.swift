public import Logging

/// Consumes one queue with manual acknowledgements and a prefetch limit.
///
/// After a reconnect it consumes again; deliveries it held were returned to the
/// queue by the broker, and acks for them are dropped (their tags are void): a caller
/// asks `isCurrent` before it starts work on a delivery, and drops it unprocessed if not.
public final class AMQPConsumer: Sendable {
    private let loop: ConnectionLoop
    /// The deliveries, in the order the broker sent them.
    public let deliveries: AsyncStream<Delivery>
    private let continuation: AsyncStream<Delivery>.Continuation

    public init(
        configuration: AMQPConfiguration,
        topology: Topology?,
        queue: String,
        prefetch: Int,
        name: String = "consumer",
        logger: Logger
    ) throws {
        let (stream, continuation) = AsyncStream<Delivery>.makeStream()
        self.deliveries = stream
        self.continuation = continuation
        loop = try ConnectionLoop(
            configuration: configuration,
            topology: topology,
            role: .init(name: name, confirms: false, consume: (queue, UInt16(clamping: max(1, prefetch)))),
            confirmTimeout: .seconds(5),
            logger: logger,
            onDelivery: { continuation.yield($0) }
        )
    }

    /// Starts the connection thread.
    public func start() { loop.start() }

    /// Whether the consuming channel is open right now.
    public var isConnected: Bool { loop.isConnected }

    /// Whether `delivery` came through the connection open now. If not, the broker already put it
    /// back on the queue when its connection dropped and is redelivering it: working on it too
    /// would do the work twice, and its ack would be dropped anyway.
    public func isCurrent(_ delivery: Delivery) -> Bool { loop.isCurrent(delivery) }

    /// How long the broker has sent nothing on the connection `delivery` came through, or nil once
    /// that connection is not the open one. A link that went silent is noticed only after two
    /// missed heartbeats; until then its deliveries look current, and only this tells them apart.
    public func silence(of delivery: Delivery) -> Duration? { loop.silence(of: delivery) }

    /// Asks the broker something it answers at once, so that `silence(of:)` drops to nearly zero
    /// if the connection is alive, without waiting for the next heartbeat.
    public func ping() { loop.submit(.ping) }

    /// Acknowledges a delivery: the broker forgets it.
    /// - Parameter multiple: also every earlier delivery of this consumer not yet acknowledged
    ///   (one frame, one settlement at the broker); only for a consumer that finishes its
    ///   deliveries in the order they came.
    public func ack(_ delivery: Delivery, multiple: Bool = false) {
        loop.submit(.ack(tag: delivery.deliveryTag, generation: delivery.generation, multiple: multiple))
    }

    /// Rejects a delivery whose processing failed (`basic.reject`): back to the queue, or
    /// (requeue false) to the dead-letter queue. A requeue counts toward the queue's delivery
    /// limit on every RabbitMQ version, so a request that always fails is dead-lettered in the end.
    public func reject(_ delivery: Delivery, requeue: Bool) {
        loop.submit(.reject(tag: delivery.deliveryTag, generation: delivery.generation, requeue: requeue))
    }

    /// Hands a delivery back to the queue unprocessed (`basic.nack` with requeue), for another
    /// consumer to take. RabbitMQ 4.3 does not count this toward the delivery limit; 3.x counts
    /// every return.
    public func giveBack(_ delivery: Delivery) {
        loop.submit(.nack(tag: delivery.deliveryTag, generation: delivery.generation, requeue: true))
    }

    /// Stops taking deliveries but keeps the connection, so acks of work still in flight go through:
    /// the broker is told to stop delivering (`basic.cancel`), what it had already sent is handed
    /// back as it arrives, and `deliveries` ends after the ones it holds. Hand those back too
    /// (`giveBack`) rather than start them.
    public func stopDeliveries() {
        loop.submit(.stopConsuming(then: { [continuation] in continuation.finish() }))
    }

    /// Closes the connection: unacknowledged deliveries go back to the queue. Ends `deliveries`.
    public func shutdown() {
        loop.submit(.stop)
        continuation.finish()
    }
}
