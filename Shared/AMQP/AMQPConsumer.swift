public import Logging

/// Consumes one queue with manual acknowledgements and a prefetch limit.
///
/// After a reconnect it consumes again; deliveries it held were returned to the
/// queue by the broker, and acks for them are dropped (their tags are void).
public final class AMQPConsumer: Sendable {
    private let loop: ConnectionLoop
    /// The deliveries, in the order the broker sent them.
    public let deliveries: AsyncStream<Delivery>
    private let continuation: AsyncStream<Delivery>.Continuation

    public init(
        configuration: AMQPConfiguration, topology: Topology?, queue: String, prefetch: Int,
        name: String = "consumer", logger: Logger
    ) throws {
        let (stream, continuation) = AsyncStream<Delivery>.makeStream()
        self.deliveries = stream
        self.continuation = continuation
        loop = try ConnectionLoop(
            configuration: configuration, topology: topology,
            role: .init(name: name, confirms: false, consume: (queue, UInt16(clamping: max(1, prefetch)))),
            confirmTimeout: .seconds(5), logger: logger,
            onDelivery: { continuation.yield($0) })
    }

    /// Starts the connection thread.
    public func start() { loop.start() }

    /// Whether the consuming channel is open right now.
    public var isConnected: Bool { loop.isConnected }

    /// Acknowledges a delivery: the broker forgets it.
    /// - Parameter multiple: also every earlier delivery of this consumer not yet acknowledged
    ///   (one frame, one settlement at the broker); only for a consumer that finishes its
    ///   deliveries in the order they came.
    public func ack(_ delivery: Delivery, multiple: Bool = false) {
        loop.submit(.ack(tag: delivery.deliveryTag, generation: delivery.generation, multiple: multiple))
    }

    /// Rejects a delivery: back to the queue, or (requeue false) to the dead-letter queue.
    public func nack(_ delivery: Delivery, requeue: Bool) {
        loop.submit(.nack(tag: delivery.deliveryTag, generation: delivery.generation, requeue: requeue))
    }

    /// Stops handing out deliveries (ends `deliveries`) but keeps the connection, so acks of
    /// work still in flight go through. Deliveries that arrive later stay unacknowledged and
    /// return to the queue when `shutdown()` closes the connection.
    public func stopDeliveries() {
        continuation.finish()
    }

    /// Closes the connection: unacknowledged deliveries go back to the queue. Ends `deliveries`.
    public func shutdown() {
        loop.submit(.stop)
        continuation.finish()
    }
}
