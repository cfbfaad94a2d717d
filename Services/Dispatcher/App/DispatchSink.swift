public import AMQP

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
