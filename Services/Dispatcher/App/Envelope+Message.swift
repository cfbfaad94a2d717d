import AMQP
import HeraldCore

extension Envelope {
    /// The persistent message for `herald.push`; its `message_id` is the envelope id.
    var message: OutgoingMessage {
        OutgoingMessage(exchange: Topology.pushExchange, routingKey: route.rawValue, body: json, messageId: id)
    }
}
