import AMQP
import Foundation
import HeraldCore
import SQLiteStore
import Store
import TestSupport
import Testing

/// A herald executable started as its own process, its output kept in a file.
final class ServiceProcess: @unchecked Sendable {
    let process = Process()
    let name: String
    let output: URL

    /// - Parameters:
    ///   - keepStandardError: false sends standard error nowhere, so the file holds only standard
    ///     output (herald-load's JSON report, without its progress lines).
    ///   - host: a host of `deploy/local/hosts.sh` to run it on (its network namespace); the
    ///     process is still the executable itself, so signals reach it.
    init(
        _ name: String,
        arguments: [String] = [],
        environment: [String: String],
        keepStandardError: Bool = true,
        on host: String? = nil
    ) throws {
        guard let bin = ProcessInfo.processInfo.environment["HERALD_BIN_DIR"] else {
            throw AMQPError.configuration("HERALD_BIN_DIR is not set: run the tests through `make test`")
        }
        self.name = name
        output = FileManager.default.temporaryDirectory.appendingPathComponent("\(name)-\(UUID().uuidString).log")
        _ = FileManager.default.createFile(atPath: output.path, contents: nil)
        let executable = URL(fileURLWithPath: bin).appendingPathComponent(name)
        if let host {
            process.executableURL = repositoryRoot.appendingPathComponent("deploy/local/hosts.sh")
            process.arguments = ["exec", host, executable.path] + arguments
        } else {
            process.executableURL = executable
            process.arguments = arguments
        }
        process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        let handle = try FileHandle(forWritingTo: output)
        process.standardOutput = handle
        process.standardError = keepStandardError ? handle : FileHandle.nullDevice
        try process.run()
    }

    /// Waits (up to 10 minutes) for the process to end; its exit status and output. A process
    /// still running then is a failure of its own: it is killed, and its status reads as -1.
    func finish() async -> (status: Int32, output: String) {
        guard let status = await exitStatus(within: .seconds(600)) else {
            Issue.record("\(name) was still running when the test stopped waiting for it; killed")
            kill()
            return (-1, log)
        }
        return (status, log)
    }

    func kill() {
        Foundation.kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
    }

    func terminate() {
        process.terminate()
        process.waitUntilExit()
    }

    /// Sends SIGTERM and returns at once.
    func sigterm() { Foundation.kill(process.processIdentifier, SIGTERM) }

    /// Waits up to `timeout` for the process to end; its exit status, or nil if it is still running.
    func exitStatus(within timeout: Duration) async -> Int32? {
        guard await eventually(timeout: timeout, { !self.process.isRunning }) else { return nil }
        return process.terminationStatus
    }

    var log: String { (try? String(contentsOf: output, encoding: .utf8)) ?? "" }
}
