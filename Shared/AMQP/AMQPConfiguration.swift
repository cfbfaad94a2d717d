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
    /// TLS for `amqps://`: the broker's certificate and host name are always verified; nil for `amqp://`.
    public var tls: TLS?

    /// How an `amqps://` connection is made. Nothing here turns verification off: there is no way to.
    public struct TLS: Sendable, Equatable {
        /// PEM certificates of the CAs trusted to sign the broker's certificate
        /// (`HERALD_AMQP_TLS_CA`); nil: the system's trust store.
        public var caFile: String?
        /// A client certificate and its key, presented when the broker asks (`HERALD_AMQP_TLS_CERT`,
        /// `HERALD_AMQP_TLS_KEY`).
        public var certificateFile: String?
        public var keyFile: String?

        /// Debian's bundle of the system's trusted CAs.
        public static let systemTrustStore = "/etc/ssl/certs/ca-certificates.crt"

        public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
        }

        /// The CA file used: the one given, else the system's.
        public var trustedCAs: String { caFile ?? Self.systemTrustStore }
    }

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

    /// Parses `amqp://user:password@host:port/vhost` (vhost percent-encoded, `%2f` is `/`), or a
    /// comma-separated list of a cluster's nodes: complete URLs
    /// (`amqp://u:p@h1:5672/%2f,amqp://u:p@h2:5672/%2f`), or one URL whose further nodes name only
    /// `host[:port]` and share its credentials and virtual host (`amqp://u:p@h1:5672,h2:5673/%2f`;
    /// the virtual host may stand on any entry). The first node is the one `host`, `port` and the
    /// credentials describe; `nodes` lists them all.
    public init(url: String, heartbeatSeconds: Int = 10, connectTimeout: TimeInterval = 2) throws(AMQPError) {
        let entries = url.split(separator: ",", omittingEmptySubsequences: false).map { $0.trimmingCharacters(in: .whitespaces) }
        var parsed: [Node] = []
        var sharedVirtualHost: String?
        // amqp:// or amqps://, the same for every node: one cluster speaks one way.
        let secure = entries.first?.hasPrefix("amqps://") ?? false
        let scheme = secure ? "amqps" : "amqp"
        for (index, entry) in entries.enumerated() {
            let complete = entry.hasPrefix("amqp://") || entry.hasPrefix("amqps://")
            guard complete || index > 0 else {
                throw AMQPError.configuration("HERALD_AMQP_URL must look like amqp://user:password@host:5672/vhost (or amqps://… for TLS)")
            }
            let place = index == 0 ? "HERALD_AMQP_URL" : "HERALD_AMQP_URL's node \(index + 1) (\(Self.redacted(entry)))"
            guard complete || !entry.contains("://"),
                let components = URLComponents(string: complete ? entry : "\(scheme)://" + entry), components.scheme == scheme
            else {
                throw AMQPError.configuration(
                    "\(place) must look like \(scheme)://user:password@host:\(secure ? 5671 : 5672)/vhost or host:port (every node amqp://, or every node amqps://)"
                )
            }
            guard let host = components.host, !host.isEmpty else { throw AMQPError.configuration("\(place) has no host") }
            guard complete || (components.user == nil && components.password == nil) else {
                throw AMQPError.configuration("\(place) gives credentials without amqp://: write the whole URL")
            }
            let path = components.percentEncodedPath
            let encoded = path.hasPrefix("/") ? String(path.dropFirst()) : path
            let virtualHost = encoded.isEmpty ? nil : (encoded.removingPercentEncoding ?? encoded)
            if !complete, let virtualHost { sharedVirtualHost = virtualHost }
            parsed.append(
                Node(
                    host: host,
                    port: components.port ?? (secure ? 5671 : 5672),
                    username: complete ? components.user?.removingPercentEncoding ?? "guest" : parsed[0].username,
                    password: complete ? components.password?.removingPercentEncoding ?? "guest" : parsed[0].password,
                    virtualHost: virtualHost ?? ""
                )
            )
        }
        // A short entry without a virtual host takes the one a short entry named, else the first URL's.
        let fallback = sharedVirtualHost ?? (parsed[0].virtualHost.isEmpty ? "/" : parsed[0].virtualHost)
        for i in parsed.indices where parsed[i].virtualHost.isEmpty {
            parsed[i].virtualHost = i == 0 || !entries[i].contains("://") ? fallback : "/"
        }
        let first = parsed[0]
        self.init(
            host: first.host,
            port: first.port,
            username: first.username,
            password: first.password,
            virtualHost: first.virtualHost,
            heartbeatSeconds: heartbeatSeconds,
            connectTimeout: connectTimeout
        )
        listedNodes = parsed.count > 1 ? parsed : nil
        tls = secure ? TLS() : nil
    }

    /// One node of a cluster: where it listens and how to log in.
    public struct Node: Sendable, Equatable {
        public var host: String
        public var port: Int
        public var username: String
        public var password: String
        public var virtualHost: String
    }

    /// Every node the configuration names, in the order given; the one of `host` and `port` when
    /// it was made without a list.
    public var nodes: [Node] {
        listedNodes ?? [Node(host: host, port: port, username: username, password: password, virtualHost: virtualHost)]
    }
    /// The nodes of a list of more than one; nil for one node, which `host`, `port` and the
    /// credentials describe (so a test that changes `port` aims at the port it set).
    private var listedNodes: [Node]?

    /// This configuration aimed at one of its nodes (`index` modulo their number): `host`, `port`,
    /// credentials and virtual host are that node's.
    public func aimed(at index: Int) -> AMQPConfiguration {
        let all = nodes
        let node = all[((index % all.count) + all.count) % all.count]
        var one = self
        one.listedNodes = nil
        one.host = node.host
        one.port = node.port
        one.username = node.username
        one.password = node.password
        one.virtualHost = node.virtualHost
        return one
    }

    /// An entry of the list as it may be logged: without a password.
    private static func redacted(_ entry: String) -> String {
        guard let at = entry.lastIndex(of: "@") else { return entry }
        let scheme = entry.hasPrefix("amqps://") ? "amqps://" : entry.hasPrefix("amqp://") ? "amqp://" : ""
        return scheme + "…@" + entry[entry.index(after: at)...]
    }

    /// The broker address without credentials, safe for logs; every node of a list.
    public var redactedDescription: String {
        let scheme = tls == nil ? "amqp" : "amqps"
        return nodes.map { "\(scheme)://\($0.host):\($0.port)/\($0.virtualHost == "/" ? "%2f" : $0.virtualHost)" }.joined(separator: ",")
    }
}
