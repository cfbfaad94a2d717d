import Foundation

/// A PostgreSQL server of a test's own (`deploy/local/postgres.sh`), for faults no other test may
/// feel: a paused server, a stopped one.
public final class ScratchPostgres: Sendable {
    public let name: String
    /// Its `HERALD_DATABASE_URL`.
    public let url: String
    let port: Int

    /// Starts the server `name` on `port` (a fresh data folder each time).
    public init(name: String, port: Int) throws {
        self.name = name
        self.port = port
        url = "postgres://herald@127.0.0.1:\(port)/herald"
        _ = try? Self.script(["stop", name])
        try? FileManager.default.removeItem(at: repositoryRoot.appendingPathComponent("deploy/local/var/pg-\(name)"))
        try Self.script(["start", name, String(port)])
    }

    /// SIGSTOP to the server and every backend: it answers nobody until `resume()`.
    public func pause() throws { try Self.script(["pause", name]) }

    public func resume() throws { try Self.script(["resume", name]) }

    public func stop() { _ = try? Self.script(["stop", name]) }

    /// Stops the server (a fast shutdown: every connection is told and closed) and starts it again
    /// on the same data.
    public func restart() throws {
        try Self.script(["stop", name])
        try Self.script(["start", name, String(port)])
    }

    static func script(_ arguments: [String]) throws { try LocalScript.run("postgres.sh", arguments) }
}
