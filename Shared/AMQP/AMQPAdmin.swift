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

    /// Takes up to `max` messages from a queue, acknowledging each (they are removed).
    public func take(queue: String, max: Int) async throws -> [Delivery] {
        try await run { connection in
            var out: [Delivery] = []
            while out.count < max, let delivery = try connection.get(queue: queue) {
                try connection.ack(delivery.deliveryTag)
                out.append(delivery)
            }
            return out
        }
    }

    /// Empties a queue; returns how many messages it held.
    @discardableResult
    public func purge(queue: String) async throws -> Int {
        try await run { try $0.purge(queue) }
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
                    let connection = try RabbitMQConnection(configuration: configuration)
                    try topology?.declare(on: connection)
                    continuation.resume(returning: try body(connection))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }
}
