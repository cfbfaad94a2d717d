import Dispatch

/// One-off broker operations for the CLI and tests: counts, reading and purging queues.
/// Each call opens its own connection on a dispatch queue, never on the cooperative pool.
public struct AMQPAdmin: Sendable {
    public let configuration: AMQPConfiguration
    private let topology: Topology?

    /// - Parameter topology: declared before the first operation of each call; nil declares nothing.
    public init(configuration: AMQPConfiguration, topology: Topology? = nil) {
        self.configuration = configuration
        self.topology = topology
    }

    /// Ready messages and consumers of a queue.
    public func counts(queue: String) async throws -> (messages: Int, consumers: Int) {
        try await run { try $0.queueCounts(queue) }
    }

    /// Takes up to `max` messages off a queue: they are removed as the broker hands them over
    /// (`basic.get` with `no-ack`), so a message this call could not read is lost. Not acks:
    /// a quorum queue may ignore acks sent just before the channel closes (rabbitmq-server#10327),
    /// and the next take would return those messages again.
    public func take(queue: String, max: Int) async throws -> [Delivery] {
        try await run { connection in
            var out: [Delivery] = []
            while out.count < max, let delivery = try connection.get(queue: queue, noAck: true) { out.append(delivery) }
            return out
        }
    }

    /// Reads up to `max` messages without removing them: they return to the queue when the
    /// call's connection closes.
    public func peek(queue: String, max: Int) async throws -> [Delivery] {
        try await run { connection in
            var out: [Delivery] = []
            while out.count < max, let delivery = try connection.get(queue: queue) { out.append(delivery) }
            return out
        }
    }

    /// Moves the messages of `queue` that `select` picks (looking at up to `scan` of them) to the
    /// queue `destination`, one at a time: each copy is confirmed by the broker before the original
    /// is acknowledged, so a failure part-way leaves every message in one queue or the other. A
    /// quorum queue may ignore the last ack as the call's channel closes (rabbitmq-server#10327):
    /// that message is then in both queues, a copy the dispatcher's status record makes harmless.
    /// Headers named in `dropping` are not copied. Returns the moved messages.
    public func move(
        from queue: String,
        to destination: String,
        scan: Int,
        dropping: Set<String> = [],
        select: @escaping @Sendable (Delivery) -> Bool
    ) async throws -> [Delivery] {
        try await run { connection in
            try connection.confirmSelect()
            var moved: [Delivery] = []
            var looked = 0
            var sequence: UInt64 = 0
            while looked < scan, let delivery = try connection.get(queue: queue) {
                looked += 1
                guard select(delivery) else { continue }  // stays unacknowledged: back to the queue at close
                try connection.publish(
                    OutgoingMessage(
                        routingKey: destination,
                        body: delivery.body,
                        messageId: delivery.messageId ?? "",
                        headers: delivery.headers.filter { !dropping.contains($0.key) }
                    )
                )
                try connection.flush()
                sequence += 1
                try Self.awaitConfirm(sequence, on: connection)
                try connection.ack(delivery.deliveryTag)
                try connection.flush()
                moved.append(delivery)
            }
            return moved
        }
    }

    private static func awaitConfirm(_ sequence: UInt64, on connection: RabbitMQConnection) throws {
        while true {
            guard let event = try connection.nextEvent(timeoutMillis: 10_000) else {
                throw AMQPError.confirmTimeout
            }
            switch event {
            case .ack(let tag, let multiple) where tag == sequence || (multiple && tag >= sequence): return
            case .nack: throw AMQPError.nacked
            case .returned(_, let text): throw AMQPError.unroutable(replyText: text)
            case .closed(let error): throw error
            default: continue
            }
        }
    }

    /// Empties a queue; returns how many messages it held.
    @discardableResult
    public func purge(queue: String) async throws -> Int {
        try await run { try $0.purge(queue) }
    }

    /// Deletes a queue with its messages (tests and benchmarks; the services declare it again at start).
    public func delete(queue: String) async throws {
        try await run { try $0.deleteQueue(queue) }
    }

    /// Declares a durable quorum queue (for benchmarks and tests outside Herald's topology).
    public func declareQuorumQueue(_ name: String) async throws {
        try await run { try $0.declareQueue(name, arguments: [("x-queue-type", .string("quorum"))]) }
    }

    /// Declares the topology (if any) and returns; fails with the broker's reason.
    public func ping() async throws {
        try await run { _ in () }
    }

    private func run<T: Sendable>(_ body: @escaping @Sendable (RabbitMQConnection) throws -> T) async throws -> T {
        let configuration = configuration
        let topology = topology
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    let connection = try Self.connect(configuration)
                    try topology?.declare(on: connection)
                    continuation.resume(returning: try body(connection))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    /// A connection to the first node of a cluster's list that takes one, in the listed order; the
    /// last node's error if none does.
    private static func connect(_ configuration: AMQPConfiguration) throws -> RabbitMQConnection {
        let count = configuration.nodes.count
        for index in 0..<(count - 1) {
            if let connection = try? RabbitMQConnection(configuration: configuration.aimed(at: index)) { return connection }
        }
        return try RabbitMQConnection(configuration: configuration.aimed(at: count - 1))
    }
}
