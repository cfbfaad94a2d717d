import AMQP
import Foundation
import HeraldCore
import HeraldRuntime
import LoadApp
import NIOPosix
import PushSandboxApp
import Store
import StoreSelection
import TestSupport

/// Herald as separate processes, the way `make run` starts it: herald-ingest on a free port and
/// any number of herald-dispatchers, sharing one fresh database and the test broker.
final class LocalStack: @unchecked Sendable {
    let folder: URL
    let port: Int
    let environment: [String: String]
    private(set) var ingest: ServiceProcess?
    private(set) var dispatchers: [ServiceProcess] = []
    private(set) var gateways: [ServiceProcess] = []
    private(set) var sandbox: ServiceProcess?
    /// Tools started with `launch`, stopped with the stack if a test ends before they do.
    private var tools: [ServiceProcess] = []

    init(extra: [String: String] = [:]) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-stack-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        // Below the kernel's ephemeral range (32768 and up here), where any outgoing connection may
        // take the port meanwhile and ingest then fails to bind (seen once), and below the brokers'
        // distribution ports (AMQP port + 20000: 25673, 25690…).
        port = Int.random(in: 10_000..<20_000)
        environment = [
            "HERALD_AMQP_URL": try Broker.url(),
            "HERALD_DB_PATH": folder.appendingPathComponent("herald.sqlite").path,
            "HERALD_JWT_SECRET": "stack-test-secret-stack-test-secret-0123456789",
            "HERALD_HTTP_HOST": "127.0.0.1", "HERALD_HTTP_PORT": String(port),
            "HERALD_DISPATCHER_METRICS_PORT": "0", "HERALD_LOG_FORMAT": "json",
        ].merging(extra) { $1 }
    }

    /// A stack on `engine`: the SQLite file in its folder, or a new database on the test
    /// PostgreSQL server (`HERALD_DATABASE_URL`).
    static func on(_ engine: TestStoreEngine, extra: [String: String] = [:]) async throws -> LocalStack {
        switch engine {
        case .sqlite: try LocalStack(extra: extra)
        case .postgres: try LocalStack(extra: ["HERALD_DATABASE_URL": try await TestStoreEngine.freshPostgresURL()].merging(extra) { $1 })
        }
    }

    /// Starts herald-ingest (again) and waits until `/health/ready` answers 200.
    @discardableResult
    func startIngest() async throws -> ServiceProcess {
        let ingest = try ServiceProcess("herald-ingest", environment: environment)
        self.ingest = ingest
        guard await eventually(timeout: .seconds(30), { await self.isReady() }) else {
            throw AMQPError.configuration("herald-ingest did not become ready: \(ingest.log)")
        }
        return ingest
    }

    /// Starts one more herald-dispatcher.
    @discardableResult
    func startDispatcher() throws -> ServiceProcess {
        let process = try ServiceProcess("herald-dispatcher", environment: environment)
        dispatchers.append(process)
        return process
    }

    /// Starts herald-push-sandbox on a free port with its files in the stack's folder; its
    /// base URL once it listens.
    @discardableResult
    func startSandbox() async throws -> String {
        let process = try ServiceProcess(
            "herald-push-sandbox",
            arguments: ["--port", "0", "--dir", sandboxFolder.path],
            environment: environment
        )
        sandbox = process
        var url: String?
        _ = await eventually(timeout: .seconds(30)) {
            url = process.log.split(separator: "\n").first { $0.contains("herald-push-sandbox listening") }.flatMap { line in
                line.split(separator: " ").first { $0.hasPrefix("url=") }.map { String($0.dropFirst(4)) }
            }
            return url != nil
        }
        guard let url else { throw AMQPError.configuration("herald-push-sandbox did not start: \(process.log)") }
        return url
    }

    var sandboxFolder: URL { folder.appendingPathComponent("push-sandbox") }

    /// Starts one more herald-gateway, pointed at the stand-in by its gateway.env.
    @discardableResult
    func startGateway(extra: [String: String] = [:]) throws -> ServiceProcess {
        let process = try ServiceProcess("herald-gateway", environment: try gatewayEnvironment().merging(extra) { $1 })
        gateways.append(process)
        return process
    }

    /// The stack's environment with the stand-in's gateway.env.
    func gatewayEnvironment() throws -> [String: String] {
        environment.merging(try SandboxCredentials.gatewayEnvironment(in: sandboxFolder)) { $1 }
            .merging(["HERALD_GATEWAY_METRICS_PORT": "0"]) { $1 }
    }

    /// Whether ingest answers `/health/ready` with 200.
    func isReady() async -> Bool { await readiness() == 200 }

    /// The status of ingest's `/health/ready`, or nil when nothing answers.
    func readiness() async -> Int? {
        guard let connection = try? await HTTPConnection.connect(host: "127.0.0.1", port: port, group: .singleton) else { return nil }
        let status = try? await connection.request(.GET, "/health/ready").status
        await connection.close()
        return status
    }

    /// Starts a herald tool (`herald-load`, `heraldctl`) against this stack in the background;
    /// `finish()` waits for it and returns its standard output.
    func launch(_ name: String, _ arguments: [String]) throws -> ServiceProcess {
        let process = try ServiceProcess(name, arguments: arguments, environment: environment, keepStandardError: false)
        tools.append(process)
        return process
    }

    /// Runs a herald tool (`herald-load`, `heraldctl`) against this stack to its end.
    func tool(_ name: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        try await launch(name, arguments).finish()
    }

    /// A token `heraldctl token issue` mints for `principal` of `tenant`, as an operator would.
    func issueToken(tenant: String, principal: String = "p-admin") async throws -> String {
        try await tool("heraldctl", ["token", "issue", "--tenant", tenant, "--principal", principal]).output
            .trimmingCharacters(in: .whitespacesAndNewlines)
    }

    /// The stack's database file (SQLite).
    var databasePath: String { environment["HERALD_DB_PATH"]! }

    /// Imports `directory` with `heraldctl directory import`, as an operator would.
    func importDirectory(_ directory: DirectoryFile) async throws {
        let file = folder.appendingPathComponent("directory-\(UUID().uuidString).json")
        try JSONEncoder().encode(directory).write(to: file)
        let imported = try await tool("heraldctl", ["directory", "import", file.path])
        guard imported.status == 0 else { throw AMQPError.configuration("heraldctl directory import failed: \(imported.output)") }
    }

    /// Stops every process (SIGTERM) and removes the folder.
    func stop() {
        for process in tools + gateways + dispatchers + [ingest, sandbox].compactMap({ $0 }) where process.process.isRunning {
            process.terminate()
        }
        try? FileManager.default.removeItem(at: folder)
    }
}
