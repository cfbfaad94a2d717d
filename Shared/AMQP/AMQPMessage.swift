/// A header value Herald reads or writes.
public enum AMQPHeaderValue: Sendable, Equatable {
    case string(String)
    case int(Int64)
}

/// A message to publish, always persistent.
public struct OutgoingMessage: Sendable {
    public var exchange: String
    public var routingKey: String
    public var body: [UInt8]
    /// AMQP `message_id`; also how a `basic.return` is matched to its publish.
    public var messageId: String
    public var contentType: String
    public var headers: [String: AMQPHeaderValue]
    /// Per-message TTL in milliseconds (the `expiration` property).
    public var expirationMillis: Int?

    public init(
        exchange: String = "",
        routingKey: String,
        body: [UInt8],
        messageId: String,
        contentType: String = "application/json",
        headers: [String: AMQPHeaderValue] = [:],
        expirationMillis: Int? = nil
    ) {
        self.exchange = exchange
        self.routingKey = routingKey
        self.body = body
        self.messageId = messageId
        self.contentType = contentType
        self.headers = headers
        self.expirationMillis = expirationMillis
    }
}

/// A message received from a queue. Acknowledge it through the consumer that delivered it.
public struct Delivery: Sendable {
    public var deliveryTag: UInt64
    /// Which connection delivered it: a tag from before a reconnect is void.
    public var generation: UInt64
    public var redelivered: Bool
    public var exchange: String
    public var routingKey: String
    public var messageId: String?
    public var headers: [String: AMQPHeaderValue]
    public var body: [UInt8]
    /// Set by persistent publishes (delivery mode 2).
    public var persistent: Bool

    /// How many times a quorum queue delivered this message before (`x-delivery-count`).
    public var deliveryCount: Int {
        if case .int(let n) = headers["x-delivery-count"] { return Int(n) }
        return 0
    }
}
