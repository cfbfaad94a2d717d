public import AMQP
public import Logging

extension EnvironmentReader {
    /// `HERALD_AMQP_URL` (or `url`, a command's `--amqp-url`), `HERALD_AMQP_STARTUP_TIMEOUT`
    /// (seconds, default 30) and, for `amqps://`, `HERALD_AMQP_TLS_CA`, `_CERT` and `_KEY`; a bad
    /// value throws an error naming its key.
    public func amqp(url: String? = nil) throws(ConfigurationError) -> AMQPConfiguration {
        var configuration: AMQPConfiguration
        do {
            configuration = try AMQPConfiguration(url: url ?? string("HERALD_AMQP_URL", default: AMQPConfiguration.defaultURL))
        } catch {
            throw ConfigurationError(key: "HERALD_AMQP_URL", problem: "is not usable: \(error)")
        }
        configuration.startupTimeout = .seconds(try int("HERALD_AMQP_STARTUP_TIMEOUT", default: 30, in: 0...3600))
        guard configuration.tls != nil else {
            // TLS files without amqps:// would be ignored, and the broker reached in the clear.
            if let set = ["HERALD_AMQP_TLS_CA", "HERALD_AMQP_TLS_CERT", "HERALD_AMQP_TLS_KEY"].first(where: { optional($0) != nil }) {
                throw ConfigurationError(
                    key: set,
                    problem: "is set but HERALD_AMQP_URL is not amqps://: the broker would be reached without TLS"
                )
            }
            return configuration
        }
        let ca = try readableFile("HERALD_AMQP_TLS_CA")
        let certificate = try readableFile("HERALD_AMQP_TLS_CERT")
        let key = try readableFile("HERALD_AMQP_TLS_KEY")
        guard (certificate == nil) == (key == nil) else {
            throw ConfigurationError(
                key: certificate == nil ? "HERALD_AMQP_TLS_CERT" : "HERALD_AMQP_TLS_KEY",
                problem: "is required with the other: a client certificate and its key go together"
            )
        }
        configuration.tls = AMQPConfiguration.TLS(caFile: ca, certificateFile: certificate, keyFile: key)
        return configuration
    }
}

/// Why a service cannot start with the broker `HERALD_AMQP_URL` names: one line for standard
/// error, and the exit status that says whether a retry can help.
public struct BrokerStartupError: Error, CustomStringConvertible {
    /// `configuration` for a refused login, an unknown virtual host or a host name that does not
    /// resolve; `unavailable` when nothing answered within the startup timeout.
    public var exit: ServiceExit
    public var description: String
}

extension AMQPConfiguration {
    /// Connects once before a service starts serving, retrying (with a warning each time) until
    /// `startupTimeout`; throws what the executable prints before it exits.
    public func verifyAtStart(service: String, logger: Logger) throws(BrokerStartupError) {
        do {
            try verifyReachable { error in
                logger.warning(
                    "waiting for the broker named by HERALD_AMQP_URL",
                    metadata: [
                        "amqp.broker": "\(redactedDescription)", "error": "\(error)",
                        "amqp.startup_timeout_seconds": "\(startupTimeout.components.seconds)",
                    ]
                )
            }
        } catch {
            let fatal = Self.isFatalAtStart(error)
            let waited = fatal ? "" : " within HERALD_AMQP_STARTUP_TIMEOUT (\(startupTimeout.components.seconds) s)"
            throw BrokerStartupError(
                exit: fatal ? .configuration : .unavailable,
                description: "\(service): cannot start: the broker named by HERALD_AMQP_URL (\(redactedDescription)) "
                    + "cannot be used\(waited): \(error)"
            )
        }
    }
}
