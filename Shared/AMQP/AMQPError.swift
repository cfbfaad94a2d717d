/// Every failure of the broker layer; rabbitmq-c's status codes and close replies are mapped here once.
///
/// `description` is safe to show to callers and in logs: it never holds message bodies.
public enum AMQPError: Error, Sendable, Equatable, CustomStringConvertible {
    /// The configuration cannot be used.
    case configuration(String)
    /// There is no open connection right now (the broker is down or restarting).
    case notConnected
    /// A rabbitmq-c library call failed (`amqp_error_string2` of its status).
    case library(operation: String, status: Int32, message: String)
    /// The broker closed the channel or connection (its reply code and text).
    case server(operation: String, code: UInt16, text: String)
    /// The broker refused a message (basic.nack).
    case nacked
    /// The message matched no queue (`mandatory` publish returned).
    case unroutable(replyText: String)
    /// The broker did not confirm in time.
    case confirmTimeout
    /// The connection was lost before the broker confirmed.
    case connectionLost
    /// The broker blocks publishing (a memory or disk alarm); the message was not sent.
    case blocked(reason: String)
    /// The broker stopped reading from the connection, so the message could not be written in time; it was not sent.
    case stalled
    /// The client is shutting down; the message was not sent.
    case shutdown
    /// The client shut down after sending the message but before the broker confirmed it.
    case shutdownBeforeConfirm

    public var description: String {
        switch self {
        case .configuration(let text): "broker configuration: \(text)"
        case .notConnected: "not connected to the broker"
        case .library(let op, let status, let message): "\(op) failed: \(message) (\(status))"
        case .server(let op, let code, let text): "\(op): broker closed the channel (\(code) \(text))"
        case .nacked: "the broker refused the message"
        case .unroutable(let text): "the message matched no queue (\(text))"
        case .confirmTimeout: "the broker did not confirm in time"
        case .connectionLost: "the broker connection was lost before the confirm"
        case .blocked(let reason): "the broker blocks publishing (\(reason.isEmpty ? "resource alarm" : reason))"
        case .stalled: "the broker is not reading from the connection; the message was not sent"
        case .shutdown: "the broker client is shutting down"
        case .shutdownBeforeConfirm: "the broker client shut down before the broker confirmed"
        }
    }

    /// Whether the message may have reached the broker although the publish failed: it was sent,
    /// and no answer came (a missing confirm, a lost connection, a shutdown). Only a retry under the
    /// same id can then make sure it is delivered exactly once.
    public var mayHaveReachedBroker: Bool {
        switch self {
        case .confirmTimeout, .connectionLost, .shutdownBeforeConfirm: true
        default: false
        }
    }
}
