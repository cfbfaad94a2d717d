public import Foundation

/// Where and how to reach the broker; parsed once from `HERALD_AMQP_URL`.
public struct AMQPConfiguration: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var username: String
    public var password: String
    public var virtualHost: String
    /// Seconds between heartbeats the client asks for (0 disables them).
    public var heartbeatSeconds: Int
    /// How long opening the TCP connection may take.
    public var connectTimeout: TimeInterval
    /// How long a service waits at start for a broker that does not answer (`verifyReachable`).
    public var startupTimeout: Duration = .seconds(30)

    /// The default docs/contracts.md gives.
    public static let defaultURL = "amqp://guest:guest@127.0.0.1:5672/%2f"

    public init(
        host: String = "127.0.0.1",
        port: Int = 5672,
        username: String = "guest",
        password: String = "guest",
        virtualHost: String = "/",
        heartbeatSeconds: Int = 10,
        connectTimeout: TimeInterval = 2
    ) {
        self.host = host
        self.port = port
        self.username = username
        self.password = password
        self.virtualHost = virtualHost
        self.heartbeatSeconds = heartbeatSeconds
        self.connectTimeout = connectTimeout
    }

    /// Parses `amqp://user:password@host:port/vhost` (vhost percent-encoded, `%2f` is `/`).
    public init(url: String, heartbeatSeconds: Int = 10, connectTimeout: TimeInterval = 2) throws(AMQPError) {
        guard let components = URLComponents(string: url), components.scheme == "amqp" else {
            throw AMQPError.configuration("HERALD_AMQP_URL must look like amqp://user:password@host:5672/vhost")
        }
        guard let host = components.host, !host.isEmpty else {
            throw AMQPError.configuration("HERALD_AMQP_URL has no host")
        }
        let path = components.percentEncodedPath
        let vhostEncoded = path.hasPrefix("/") ? String(path.dropFirst()) : path
        let vhost = vhostEncoded.isEmpty ? "/" : (vhostEncoded.removingPercentEncoding ?? vhostEncoded)
        self.init(
            host: host,
            port: components.port ?? 5672,
            username: components.user?.removingPercentEncoding ?? "guest",
            password: components.password?.removingPercentEncoding ?? "guest",
            virtualHost: vhost,
            heartbeatSeconds: heartbeatSeconds,
            connectTimeout: connectTimeout
        )
    }

    /// The broker address without credentials, safe for logs.
    public var redactedDescription: String { "amqp://\(host):\(port)/\(virtualHost == "/" ? "%2f" : virtualHost)" }
}
