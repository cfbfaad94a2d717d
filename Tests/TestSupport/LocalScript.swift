import Foundation

/// The project's own scripts under deploy/local (postgres.sh, hosts.sh, …), run from tests.
public enum LocalScript {
    /// The script's full path.
    public static func path(_ script: String) -> String {
        repositoryRoot.appendingPathComponent("deploy/local/\(script)").path
    }

    /// Runs `script` with `arguments` (and `environment` added to this process's) through the
    /// shell and returns what it printed; a failure reports that output. Its output goes to a file,
    /// not a pipe: a pipe would never reach its end, because the servers the scripts start keep the
    /// descriptors they inherit.
    @discardableResult
    public static func run(_ script: String, _ arguments: [String], environment: [String: String] = [:]) throws -> String {
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("\(script)-\(UUID().uuidString).log")
        defer { try? FileManager.default.removeItem(at: log) }
        let assignments = environment.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }
        let line = ((assignments.isEmpty ? [] : ["env"] + assignments) + [path(script)] + arguments).map {
            "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'"
        }.joined(separator: " ")
        let status = system(line + " >'\(log.path)' 2>&1 </dev/null")
        let output = (try? String(contentsOf: log, encoding: .utf8)) ?? ""
        guard status == 0 else { throw TestSetupError("\(script) \(arguments.joined(separator: " ")) failed: \(output)") }
        return output
    }
}
