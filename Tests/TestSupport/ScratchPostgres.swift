import Foundation

/// A PostgreSQL server of a test's own (`deploy/local/postgres.sh`), for faults no other test may
/// feel: a paused server, a stopped one.
public final class ScratchPostgres: Sendable {
    public let name: String
    /// Its `HERALD_DATABASE_URL`.
    public let url: String

    /// Starts the server `name` on `port` (a fresh data folder each time).
    public init(name: String, port: Int) throws {
        self.name = name
        url = "postgres://herald@127.0.0.1:\(port)/herald"
        _ = try? Self.script(["stop", name])
        try? FileManager.default.removeItem(at: repositoryRoot.appendingPathComponent("deploy/local/var/pg-\(name)"))
        try Self.script(["start", name, String(port)])
    }

    /// SIGSTOP to the server and every backend: it answers nobody until `resume()`.
    public func pause() throws { try Self.script(["pause", name]) }

    public func resume() throws { try Self.script(["resume", name]) }

    public func stop() { _ = try? Self.script(["stop", name]) }

    /// Runs the script through the shell, its output in a file that a failure reports. (A pipe
    /// would never reach its end: the server the script starts keeps the descriptors it inherits.)
    static func script(_ arguments: [String]) throws {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("postgres-sh-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let words = [repositoryRoot.appendingPathComponent("deploy/local/postgres.sh").path] + arguments
        let line = words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
        guard system(line + " >'\(log.path)' 2>&1 </dev/null") == 0 else {
            let text = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
            throw TestSetupError("postgres.sh \(arguments.joined(separator: " ")) failed: \(text)")
        }
    }
}
