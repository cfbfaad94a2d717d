public import AMQP

/// Where the dispatcher takes requests from: `herald.requests` through an `AMQPConsumer`.
public protocol RequestSource: Sendable {
    /// The deliveries, in the order the broker sent them.
    var deliveries: AsyncStream<Delivery> { get }
    /// Whether the consuming channel is open right now.
    var isConnected: Bool { get }
    func start()
    /// Whether `delivery` came through the connection open now (else the broker is redelivering it).
    func isCurrent(_ delivery: Delivery) -> Bool
    /// How long the broker has sent nothing on the connection `delivery` came through; nil once
    /// it is not current. See `DeliveryLease`.
    func silence(of delivery: Delivery) -> Duration?
    /// Asks the broker something it answers at once on the consuming connection.
    func ping()
    /// Done with it: the broker forgets it.
    func ack(_ delivery: Delivery)
    /// Processing failed: back to the queue, counted toward the delivery limit.
    func reject(_ delivery: Delivery, requeue: Bool)
    /// Not processed: back to the queue for another consumer.
    func giveBack(_ delivery: Delivery)
    /// No more deliveries: the broker stops sending, and `deliveries` ends after the ones held.
    func stopDeliveries()
    func shutdown()
}

extension AMQPConsumer: RequestSource {
    public func ack(_ delivery: Delivery) { ack(delivery, multiple: false) }
}
