public import AMQP
public import HeraldCore

/// Where the dispatcher's messages go: envelopes, delayed and refused requests, dead letters.
/// Every call returns only after the broker confirmed every message it was given.
public protocol DispatchSink: Sendable {
    func publish(batch: [OutgoingMessage]) async throws
    /// Whether the broker holds publishes back now (a memory or disk alarm, or a connection it
    /// stopped reading): a publish that fails meanwhile is worth sending again once it clears.
    var isHeldBack: Bool { get }
}

/// The dispatcher's publishing connection: a sink that is started and stopped with the worker.
public protocol DispatchPublisher: DispatchSink {
    /// Whether the publishing channel is open right now.
    var isConnected: Bool { get }
    func start()
    func waitUntilConnected(timeout: Duration) async -> Bool
    func shutdown()
}

extension AMQPPublisher: DispatchPublisher {}

/// Where the dispatcher takes requests from: `herald.requests` through an `AMQPConsumer`.
public protocol RequestSource: Sendable {
    /// The deliveries, in the order the broker sent them.
    var deliveries: AsyncStream<Delivery> { get }
    /// Whether the consuming channel is open right now.
    var isConnected: Bool { get }
    func start()
    /// Whether `delivery` came through the connection open now (else the broker is redelivering it).
    func isCurrent(_ delivery: Delivery) -> Bool
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

extension Envelope {
    /// The persistent message for `herald.push`; its `message_id` is the envelope id.
    var message: OutgoingMessage {
        OutgoingMessage(exchange: Topology.pushExchange, routingKey: route.rawValue, body: json, messageId: id)
    }
}
