public import AMQP
public import HeraldCore

/// Where accepted requests go. Returns only after the broker holds the request durably.
public protocol RequestPublisher: Sendable {
    /// Publishes a request to `herald.requests` and waits for the broker's confirm.
    func publish(_ request: NotificationRequest) async throws
    /// Whether publishing can work right now (for readiness).
    var isReady: Bool { get }
}

extension AMQPPublisher: RequestPublisher {
    public func publish(_ request: NotificationRequest) async throws {
        let message = OutgoingMessage(routingKey: Topology.requests, body: Array(try request.encoded()), messageId: request.id)
        try await publish(message)
    }

    public var isReady: Bool { canPublish }
}
