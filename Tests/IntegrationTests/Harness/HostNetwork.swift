import AMQP
import Foundation
import HeraldCore
import LoadApp
import Logging
import NIOPosix
import PostgresStore
import Store
import TestSupport
import Testing

/// Herald on several hosts of one machine (`deploy/local/hosts.sh`): RabbitMQ on the `broker` host,
/// PostgreSQL on the `db` host, herald-ingest on `ingest1` and `ingest2`, herald-dispatcher on
/// `dispatch1`…`dispatch3`. Tools (herald-load, heraldctl) and the test itself run outside every
/// host and reach them over the bridge, as a load balancer or an operator would.
final class HostNetwork: @unchecked Sendable {
    /// The network the running suite shares (see `OnSeveralHosts`).
    @TaskLocal static var current: HostNetwork?

    /// Network namespaces and veth pairs need root, iproute2, and a kernel and container that allow
    /// them: a namespace is made and removed once to find out.
    static let isAvailable: Bool = {
        guard getuid() == 0, FileManager.default.isExecutableFile(atPath: "/usr/sbin/ip") else { return false }
        return system("ip netns add herald-probe >/dev/null 2>&1 && ip netns del herald-probe >/dev/null 2>&1") == 0
    }()

    static let ingestHosts = ["ingest1", "ingest2"]
    static let dispatcherHosts = ["dispatch1", "dispatch2", "dispatch3"]
    static let httpPort = 8080
    static let metricsPort = 9090

    /// Each host's address.
    let addresses: [String: String]
    let amqpURL: String
    let databaseURL: String
    /// What every Herald process here is started with.
    let environment: [String: String]
    let folder: URL
    let stores: Stores
    private(set) var services: [String: ServiceProcess] = [:]

    /// Makes the hosts, starts the broker and the database on theirs, then ingest and the
    /// dispatchers on theirs, and waits until every ingest is ready.
    static func start() async throws -> HostNetwork {
        try LocalScript.run("hosts.sh", ["up"])
        do {
            return try await startOnHosts()
        } catch {
            _ = try? LocalScript.run("hosts.sh", ["down"])
            throw error
        }
    }

    private static func startOnHosts() async throws -> HostNetwork {
        for folder in ["hosts", "pg-hosts"] {
            try? FileManager.default.removeItem(at: repositoryRoot.appendingPathComponent("deploy/local/var/\(folder)"))
        }
        let addresses = try Self.addresses()
        try LocalScript.run(
            "hosts.sh",
            [
                "exec", "broker", "env", "HERALD_LOCAL_LISTEN=\(addresses["broker"]!)", LocalScript.path("broker.sh"), "start", "hosts",
                "5672",
            ]
        )
        try LocalScript.run(
            "hosts.sh",
            ["exec", "db", "env", "HERALD_LOCAL_LISTEN=\(addresses["db"]!)", LocalScript.path("postgres.sh"), "start", "hosts", "5432"]
        )
        let network = try await HostNetwork(addresses: addresses)
        for host in ingestHosts { try network.startIngest(on: host) }
        for host in dispatcherHosts { try network.startDispatcher(on: host) }
        for host in ingestHosts {
            guard await eventually(timeout: .seconds(60), { await network.isReady(host) }) else {
                throw TestSetupError("herald-ingest on \(host) did not become ready: \(network.services[host]?.log ?? "")")
            }
        }
        return network
    }

    private init(addresses: [String: String]) async throws {
        self.addresses = addresses
        amqpURL = "amqp://guest:guest@\(addresses["broker"]!):5672/%2f"
        databaseURL = "postgres://herald@\(addresses["db"]!):5432/herald"
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-hosts-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        environment = [
            "HERALD_AMQP_URL": amqpURL, "HERALD_DATABASE_URL": databaseURL,
            "HERALD_JWT_SECRET": "hosts-test-secret-hosts-test-secret-0123456789",
            "HERALD_HTTP_PORT": String(Self.httpPort), "HERALD_DISPATCHER_METRICS_PORT": String(Self.metricsPort),
            "HERALD_THROTTLE_POLICY": "reject", "HERALD_PUBLISH_BATCH": "100", "HERALD_LOG_FORMAT": "json",
        ]
        stores = Stores(postgres: try await PostgresEngine(settings: try PostgresSettings(url: databaseURL), logger: quietLogger()))
    }

    /// Stops every service, the broker and the database, and removes the hosts.
    func stop() {
        for service in services.values where service.process.isRunning { service.terminate() }
        _ = try? LocalScript.run("hosts.sh", ["exec", "broker", LocalScript.path("broker.sh"), "stop", "hosts"])
        _ = try? LocalScript.run("postgres.sh", ["stop", "hosts"])
        _ = try? LocalScript.run("hosts.sh", ["down"])
        try? FileManager.default.removeItem(at: folder)
    }

    // MARK: Services

    @discardableResult
    func startIngest(on host: String) throws -> ServiceProcess {
        try start("herald-ingest", on: host, ["HERALD_HTTP_HOST": addresses[host]!])
    }

    @discardableResult
    func startDispatcher(on host: String) throws -> ServiceProcess {
        try start("herald-dispatcher", on: host, ["HERALD_DISPATCHER_METRICS_HOST": addresses[host]!])
    }

    private func start(_ executable: String, on host: String, _ extra: [String: String]) throws -> ServiceProcess {
        let process = try ServiceProcess(executable, environment: environment.merging(extra) { $1 }, on: host)
        services[host] = process
        return process
    }

    /// Whether the service on `host` (ingest or dispatcher) answers `/health/ready` with 200.
    func isReady(_ host: String) async -> Bool {
        let port = Self.ingestHosts.contains(host) ? Self.httpPort : Self.metricsPort
        guard let connection = try? await HTTPConnection.connect(host: addresses[host]!, port: port, group: .singleton) else {
            return false
        }
        let status = try? await connection.request(.GET, "/health/ready").status
        await connection.close()
        return status == 200
    }

    /// The dispatcher on `host`'s metric `name`, or nil when it does not answer.
    func dispatcherMetric(_ name: String, on host: String) async -> Double? {
        guard let connection = try? await HTTPConnection.connect(host: addresses[host]!, port: Self.metricsPort, group: .singleton) else {
            return nil
        }
        defer { Task { await connection.close() } }
        guard let body = try? await connection.request(.GET, "/metrics").body else { return nil }
        for line in String(buffer: body).split(separator: "\n") where line.hasPrefix(name + " ") {
            return Double(line.split(separator: " ").last ?? "")
        }
        return nil
    }

    /// Requests the dispatchers together have dispatched since they started.
    var dispatchedSoFar: Int {
        Self.dispatcherHosts.compactMap { services[$0] }.map { $0.log.components(separatedBy: "notification dispatched").count - 1 }
            .reduce(0, +)
    }

    /// Waits until the dispatchers have dispatched `count` more requests, so a fault lands mid-run.
    func dispatched(_ count: Int, moreThan before: Int) async -> Bool {
        await eventually(timeout: .seconds(60)) { self.dispatchedSoFar >= before + count }
    }

    /// POSTs a JSON send to ingest on `host` with `token` (and `Idempotency-Key` when given).
    func post(_ path: String, _ body: String, token: String, to host: String, key: String? = nil) async throws -> HTTPConnection.Response {
        let connection = try await HTTPConnection.connect(host: addresses[host]!, port: Self.httpPort, group: .singleton)
        var headers = [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
        if let key { headers.append(("Idempotency-Key", key)) }
        let response = try await connection.request(.POST, path, headers: headers, body: Array(body.utf8))
        await connection.close()
        return response
    }

    /// Every ingest host, as herald-load's `--url` takes them.
    var ingestURLs: String { Self.ingestHosts.map { "http://\(addresses[$0]!):\(Self.httpPort)" }.joined(separator: ",") }

    // MARK: Tools, run outside the hosts

    /// Runs herald-load or heraldctl against this network to its end.
    func tool(_ name: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await launch(name, arguments).finish()
    }

    func launch(_ name: String, _ arguments: [String]) throws -> ServiceProcess {
        try ServiceProcess(name, arguments: arguments, environment: environment, keepStandardError: false)
    }

    func importDirectory(_ directory: DirectoryFile) async throws {
        let file = folder.appendingPathComponent("directory-\(UUID().uuidString).json")
        try JSONEncoder().encode(directory).write(to: file)
        let imported = try await tool("heraldctl", ["directory", "import", file.path])
        guard imported.status == 0 else { throw TestSetupError("heraldctl directory import failed: \(imported.output)") }
    }

    func token(tenant: String, principal: String) async throws -> String {
        try await tool("heraldctl", ["token", "issue", "--tenant", tenant, "--principal", principal]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    func brokerConfiguration() throws -> AMQPConfiguration { try AMQPConfiguration(url: amqpURL) }

    func brokerAdmin() throws -> AMQPAdmin { AMQPAdmin(configuration: try brokerConfiguration(), topology: Topology()) }

    /// Whether the broker still holds a connection from `host` (`rabbitmqctl list_connections`).
    func brokerHoldsConnection(from host: String) throws -> Bool {
        let peers = try LocalScript.run(
            "hosts.sh",
            ["exec", "broker", "env", "HERALD_LOCAL_LISTEN=\(addresses["broker"]!)", LocalScript.path("broker.sh")]
                + ["ctl", "hosts", "list_connections", "peer_host", "--silent"]
        )
        return peers.split(whereSeparator: \.isNewline).contains { $0.trimmingCharacters(in: .whitespaces) == addresses[host]! }
    }

    // MARK: Faults

    /// Sets `host`'s link down: nothing reaches it or leaves it, and its processes do not know.
    func cut(_ host: String) throws { try LocalScript.run("hosts.sh", ["cut", host]) }

    func mend(_ host: String) throws { try LocalScript.run("hosts.sh", ["mend", host]) }

    /// SIGSTOP to the database server and every backend.
    func pauseDatabase() throws { try LocalScript.run("postgres.sh", ["pause", "hosts"]) }

    func resumeDatabase() throws { try LocalScript.run("postgres.sh", ["resume", "hosts"]) }

    // MARK: Scripts

    /// Each host's address, from `hosts.sh list`.
    private static func addresses() throws -> [String: String] {
        let output = try LocalScript.run("hosts.sh", ["list"])
        var addresses: [String: String] = [:]
        for line in output.split(separator: "\n") {
            let words = line.split(separator: " ")
            if words.count == 2 { addresses[String(words[0])] = String(words[1]) }
        }
        return addresses
    }
}

/// Starts one `HostNetwork` for a whole suite and removes it after the suite's last test.
struct OnSeveralHosts: SuiteTrait, TestScoping {
    var isRecursive: Bool { false }

    @concurrent func provideScope(
        for test: Test,
        testCase: Test.Case?,
        performing function: @concurrent @Sendable () async throws -> Void
    ) async throws {
        let network = try await HostNetwork.start()
        defer { network.stop() }
        try await HostNetwork.$current.withValue(network) { try await function() }
    }
}

extension Trait where Self == OnSeveralHosts {
    /// The suite's tests share one `HostNetwork`, read through `HostNetwork.current`.
    static var onSeveralHosts: Self { Self() }
}
