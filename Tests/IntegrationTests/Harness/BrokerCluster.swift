import AMQP
import Foundation
import TestSupport

/// The three-node RabbitMQ cluster `make test` starts for the cluster tests
/// (`deploy/local/broker.sh cluster 3`): its URL in `HERALD_TEST_CLUSTER_URL`, its name in
/// `HERALD_TEST_CLUSTER_NAME`. Its nodes are `NAME-1` … `NAME-3` to the broker script.
struct BrokerCluster {
    let url: String
    let name: String
    /// Node names for the broker script, in the URL's order.
    let nodes: [String]
    /// The AMQP port of each node, in the same order.
    let ports: [Int]

    /// The cluster of this test run, or nil when none was started.
    static let current: BrokerCluster? = {
        let environment = ProcessInfo.processInfo.environment
        guard let url = environment["HERALD_TEST_CLUSTER_URL"], let name = environment["HERALD_TEST_CLUSTER_NAME"],
            let configuration = try? AMQPConfiguration(url: url)
        else { return nil }
        let ports = configuration.nodes.map(\.port)
        return BrokerCluster(url: url, name: name, nodes: ports.indices.map { "\(name)-\($0 + 1)" }, ports: ports)
    }()

    func configuration() throws -> AMQPConfiguration { try AMQPConfiguration(url: url) }

    func admin() throws -> AMQPAdmin { AMQPAdmin(configuration: try configuration(), topology: Topology()) }

    /// Empties every Herald queue.
    func purgeAll() async throws {
        let admin = try admin()
        for queue in Topology().allQueues { try await admin.purge(queue: queue) }
    }

    // MARK: Faults

    /// Stops a node the way an operator does (`rabbitmqctl stop`): it hands its queue leaders over.
    func stop(_ node: String) throws { try script("stop", node) }

    /// SIGKILLs a node, as a crash or a lost machine would end it.
    func kill(_ node: String) throws { try script("kill", node) }

    /// Starts a node again (it rejoins the cluster) and waits until it runs.
    func start(_ node: String) throws {
        try LocalScript.run("broker.sh", ["start", node, String(ports[nodes.firstIndex(of: node)!])])
    }

    /// Starts every node that does not run (a test that failed part-way may leave one down), all
    /// at once: nodes stopped one after the other wait for each other at boot.
    func startAll() throws {
        try LocalScript.run("broker.sh", ["cluster", String(nodes.count), name, String(ports[0])])
    }

    // MARK: What the broker says

    /// The nodes holding a connection whose `connection_name` begins with `prefix` (a process's
    /// connections: `herald-ingest[4242]`, or one of them: `herald-dispatcher[4242] dispatcher-consume`).
    func nodes(holding prefix: String) throws -> Set<String> {
        var found: Set<String> = []
        for line in try ask(["list_connections", "port", "client_properties"]) where line.contains("connection_name\",\"\(prefix)") {
            guard let port = Int(line.prefix { $0.isNumber }), let index = ports.firstIndex(of: port) else { continue }
            found.insert(nodes[index])
        }
        return found
    }

    /// The node holding the quorum leader of `queue`.
    func leader(of queue: String) throws -> String? {
        try queueColumn(queue, "leader").map(nodeName)
    }

    /// The nodes holding a replica of `queue`.
    func members(of queue: String) throws -> [String] {
        guard let column = try queueColumn(queue, "members") else { return [] }
        return column.trimmingCharacters(in: CharacterSet(charactersIn: "[]")).split(separator: ",").map {
            nodeName($0.trimmingCharacters(in: .whitespaces))
        }
    }

    private func queueColumn(_ queue: String, _ column: String) throws -> String? {
        for line in try ask(["list_queues", "name", column]) {
            let fields = line.split(separator: "\t", maxSplits: 1).map(String.init)
            if fields.count == 2, fields[0] == queue { return fields[1] }
        }
        return nil
    }

    /// `herald-c-2@localhost` → `c-2`.
    private func nodeName(_ erlangName: String) -> String {
        String(erlangName.split(separator: "@").first ?? "").replacingOccurrences(of: "herald-", with: "")
    }

    /// Asks the first node that answers (a stopped or paused one does not).
    private func ask(_ command: [String]) throws -> [Substring] {
        var failure: (any Error)?
        for node in nodes {
            do {
                let output = try LocalScript.run("broker.sh", ["ctl", node] + command + ["--silent"])
                return output.split(whereSeparator: \.isNewline)
            } catch {
                failure = error
            }
        }
        throw failure ?? TestSetupError("no node of cluster \(name)")
    }

    private func script(_ command: String, _ node: String) throws { try LocalScript.run("broker.sh", [command, node]) }
}
