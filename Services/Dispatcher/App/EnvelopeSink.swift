public import AMQP
public import HeraldCore

/// Where the dispatcher's messages go: envelopes, delayed and refused requests, dead letters.
/// Every call returns only after the broker confirmed every message it was given.
public protocol DispatchSink: Sendable {
    func publish(batch: [OutgoingMessage]) async throws
}

extension AMQPPublisher: DispatchSink {}

extension Envelope {
    /// The persistent message for `herald.push`; its `message_id` is the envelope id.
    var message: OutgoingMessage {
        OutgoingMessage(exchange: Topology.pushExchange, routingKey: route.rawValue, body: json, messageId: id)
    }
}
