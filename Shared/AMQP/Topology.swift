/// The broker objects Herald declares at start, by both services, idempotently.
/// Queue names and headers are contracts (docs/contracts.md); the delay queues are Herald's own.
public struct Topology: Sendable, Equatable {
    /// Accepted send requests.
    public static let requests = "herald.requests"
    /// The direct exchange envelopes are published to, routing key `ios` or `android`.
    public static let pushExchange = "herald.push"
    /// Envelopes for the APNs sender.
    public static let pushIOS = "herald.push.ios"
    /// Envelopes for the FCM sender.
    public static let pushAndroid = "herald.push.android"
    /// Requests refused by the `reject` throttle policy, without their text.
    public static let throttled = "herald.throttled"
    /// Requests that cannot be processed, with the reason in `x-herald-reason`.
    public static let dead = "herald.dead"
    /// The header that carries why a message was dead-lettered or throttled.
    public static let reasonHeader = "x-herald-reason"
    /// The header that says when the dispatcher dead-lettered a request (RFC 3339).
    public static let deadAtHeader = "x-herald-dead-at"
    /// The header that counts how often a request went through a delay queue (throttle deferrals).
    public static let deferralsHeader = "x-herald-deferrals"
    /// Envelopes herald-gateway could not push and will not try again, with the reason in
    /// `x-herald-reason` (the push service's own, e.g. `PayloadTooLarge`).
    public static let pushDead = "herald.push.dead"
    /// The header that counts how often an envelope went through a push retry queue.
    public static let pushAttemptsHeader = "x-herald-push-attempts"

    /// Every queue an operator watches.
    public static let queues = [requests, pushIOS, pushAndroid, throttled, dead, pushDead]

    /// Deliveries of one request before the broker dead-letters it (`x-delivery-limit`).
    public var deliveryLimit: Int
    /// The delays, in seconds, a deferred request can wait in `herald.requests.delay.<N>s`.
    public var delayBuckets: [Int]

    /// The delays, in seconds, an envelope the push service asked to have sent later (429, 5xx)
    /// waits in `herald.push.<platform>.retry.<N>s` before it is back on its platform's queue.
    public var pushRetryBuckets: [Int]

    public init(deliveryLimit: Int = 5, delayBuckets: [Int] = [1, 5, 30, 120, 600], pushRetryBuckets: [Int] = [5, 60, 600]) {
        self.deliveryLimit = deliveryLimit
        self.delayBuckets = delayBuckets.sorted()
        self.pushRetryBuckets = pushRetryBuckets.sorted()
    }

    /// The retry queue of a push queue for a bucket.
    public static func pushRetryQueue(_ pushQueue: String, seconds: Int) -> String { "\(pushQueue).retry.\(seconds)s" }

    /// Every push retry queue, by platform queue, shortest delay first.
    public var pushRetryQueues: [String] {
        Self.pushBindings.flatMap { binding in pushRetryBuckets.map { Self.pushRetryQueue(binding.queue, seconds: $0) } }
    }

    /// The retry bucket for a wanted delay: the shortest one not shorter than it (at most the
    /// longest), so an envelope never comes back before the push service said it may.
    public func pushRetryBucket(for delaySeconds: Double) -> Int {
        pushRetryBuckets.first { Double($0) >= delaySeconds } ?? pushRetryBuckets[pushRetryBuckets.count - 1]
    }

    /// The delay queue for a bucket.
    public static func delayQueue(seconds: Int) -> String { "herald.requests.delay.\(seconds)s" }

    /// Every delay queue, shortest delay first.
    public var delayQueues: [String] { delayBuckets.map(Self.delayQueue(seconds:)) }

    /// Every queue Herald declares: the ones an operator watches, the delay and the retry queues.
    public var allQueues: [String] { Self.queues + delayQueues + pushRetryQueues }

    /// The bucket to wait in for a wanted delay: the longest one not longer than it (at least the shortest),
    /// so a request comes back no later than it must and waits again if room is still not there.
    public func delayBucket(for delaySeconds: Double) -> Int {
        delayBuckets.last { Double($0) <= delaySeconds } ?? delayBuckets[0]
    }

    /// A queue Herald declares, with its arguments.
    public struct QueueSpec: Sendable {
        public var name: String
        public var arguments: [(String, AMQPHeaderValue)]
    }

    /// Push queues and their routing keys on `herald.push`.
    public static let pushBindings = [(queue: pushIOS, routingKey: "ios"), (queue: pushAndroid, routingKey: "android")]

    /// Every queue, in declaration order. The broker definitions in `deploy/rabbitmq/` are made from this.
    public var queueSpecs: [QueueSpec] {
        let quorum: [(String, AMQPHeaderValue)] = [("x-queue-type", .string("quorum"))]
        let atLeastOnceDeadLetter: [(String, AMQPHeaderValue)] = [
            ("x-dead-letter-exchange", .string("")),
            ("x-dead-letter-strategy", .string("at-least-once")),
            ("x-overflow", .string("reject-publish")),
        ]
        var specs = [
            QueueSpec(name: Self.dead, arguments: quorum),
            QueueSpec(name: Self.throttled, arguments: quorum),
            QueueSpec(
                name: Self.requests,
                arguments: quorum + atLeastOnceDeadLetter + [
                    ("x-dead-letter-routing-key", .string(Self.dead)),
                    ("x-delivery-limit", .int(Int64(deliveryLimit))),
                ]
            ),
        ]
        specs += Self.pushBindings.map { QueueSpec(name: $0.queue, arguments: quorum) }
        specs.append(QueueSpec(name: Self.pushDead, arguments: quorum))
        specs += Self.pushBindings.flatMap { binding in
            pushRetryBuckets.map { seconds in
                QueueSpec(
                    name: Self.pushRetryQueue(binding.queue, seconds: seconds),
                    arguments: quorum + atLeastOnceDeadLetter + [
                        ("x-dead-letter-routing-key", .string(binding.queue)),
                        ("x-message-ttl", .int(Int64(seconds) * 1000)),
                    ]
                )
            }
        }
        specs += delayBuckets.map { seconds in
            QueueSpec(
                name: Self.delayQueue(seconds: seconds),
                arguments: quorum + atLeastOnceDeadLetter + [
                    ("x-dead-letter-routing-key", .string(Self.requests)),
                    ("x-message-ttl", .int(Int64(seconds) * 1000)),
                ]
            )
        }
        return specs
    }

    func declare(on connection: RabbitMQConnection) throws(AMQPError) {
        let specs = queueSpecs
        for spec in specs { try connection.declareQueue(spec.name, arguments: spec.arguments) }
        try connection.declareExchange(Self.pushExchange, type: "direct")
        for binding in Self.pushBindings {
            try connection.bindQueue(binding.queue, exchange: Self.pushExchange, routingKey: binding.routingKey)
        }
    }
}
