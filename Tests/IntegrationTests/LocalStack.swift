import AMQP
import Foundation
import LoadApp
import NIOPosix

/// Herald as separate processes, the way `make run` starts it: herald-ingest on a free port and
/// any number of herald-dispatchers, sharing one fresh database and the test broker.
final class LocalStack: @unchecked Sendable {
    let folder: URL
    let port: Int
    let environment: [String: String]
    private(set) var ingest: ServiceProcess?
    private(set) var dispatchers: [ServiceProcess] = []

    init(extra: [String: String] = [:]) throws {
        folder = FileManager.default.temporaryDirectory.appendingPathComponent("herald-stack-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        port = Int.random(in: 20_000..<40_000)
        environment = [
            "HERALD_AMQP_URL": try Broker.url(),
            "HERALD_DB_PATH": folder.appendingPathComponent("herald.sqlite").path,
            "HERALD_JWT_SECRET": "stack-test-secret-stack-test-secret-0123456789",
            "HERALD_HTTP_HOST": "127.0.0.1", "HERALD_HTTP_PORT": String(port),
            "HERALD_DISPATCHER_METRICS_PORT": "0", "HERALD_LOG_FORMAT": "json",
        ].merging(extra) { $1 }
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

    /// Whether ingest answers `/health/ready` with 200.
    func isReady() async -> Bool { await readiness() == 200 }

    /// The status of ingest's `/health/ready`, or nil when nothing answers.
    func readiness() async -> Int? {
        guard let connection = try? await HTTPConnection.connect(host: "127.0.0.1", port: port, group: .singleton) else { return nil }
        let status = try? await connection.request(.GET, "/health/ready").status
        await connection.close()
        return status
    }

    /// Starts a herald tool in the background; `finish` waits for it and returns its output.
    func launch(_ name: String, _ arguments: [String]) throws -> (process: Process, finish: @Sendable () async -> (status: Int32, output: String)) {
        guard let bin = ProcessInfo.processInfo.environment["HERALD_BIN_DIR"] else {
            throw AMQPError.configuration("HERALD_BIN_DIR is not set: run the tests through `make test`")
        }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: bin).appendingPathComponent(name)
        process.arguments = arguments
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let output = folder.appendingPathComponent("\(name)-\(UUID().uuidString).out")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: output)
        process.standardError = FileHandle.nullDevice
        try process.run()
        return (process, {
            _ = await eventually(timeout: .seconds(600)) { !process.isRunning }
            return (process.terminationStatus, (try? String(contentsOf: output, encoding: .utf8)) ?? "")
        })
    }

    /// Runs a herald tool (`herald-load`, `heraldctl`) against this stack to its end.
    func tool(_ name: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
        let launched = try launch(name, arguments)
        return await launched.finish()
    }

    /// Stops every process (SIGTERM) and removes the folder.
    func stop() {
        for process in dispatchers + [ingest].compactMap({ $0 }) where process.process.isRunning { process.terminate() }
        try? FileManager.default.removeItem(at: folder)
    }
}
