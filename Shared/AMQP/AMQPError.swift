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
    /// The client is shutting down.
    case shutdown

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
        case .shutdown: "the broker client is shutting down"
        }
    }
}
