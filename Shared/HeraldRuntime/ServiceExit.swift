import Foundation

/// How a Herald executable ends, by its exit status (documented in `docs/contracts.md`).
/// Library code throws; only an executable's `main` turns an error into one of these.
public enum ServiceExit: Int32, Sendable, CaseIterable {
    /// A clean stop (SIGTERM/SIGINT drained in time).
    case success = 0
    /// Stopped by an error while running, or a graceful shutdown that outlived its limit.
    case failure = 1
    /// `EX_UNAVAILABLE`: the broker did not answer within `HERALD_AMQP_STARTUP_TIMEOUT` at start.
    case unavailable = 69
    /// `EX_CONFIG`: a configuration value is wrong (one line on standard error names its key).
    case configuration = 78

    /// Writes `message` (one line) to standard error, then ends the process with this status.
    public func exit(_ message: String? = nil) -> Never {
        if let message { FileHandle.standardError.write(Data((message + "\n").utf8)) }
        Foundation.exit(rawValue)
    }
}
