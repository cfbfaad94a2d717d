public import AMQP
import Foundation
public import Logging

extension EnvironmentReader {
    /// `HERALD_AMQP_URL` and `HERALD_AMQP_STARTUP_TIMEOUT` (seconds, default 30); a bad value
    /// throws an error naming its key.
    public func amqp() throws(ConfigurationError) -> AMQPConfiguration {
        var configuration: AMQPConfiguration
        do {
            configuration = try AMQPConfiguration(url: string("HERALD_AMQP_URL", default: AMQPConfiguration.defaultURL))
        } catch {
            throw ConfigurationError(key: "HERALD_AMQP_URL", problem: "is not usable: \(error)")
        }
        configuration.startupTimeout = .seconds(try int("HERALD_AMQP_STARTUP_TIMEOUT", default: 30, in: 0...3600))
        return configuration
    }
}

extension AMQPConfiguration {
    /// Exits with one line on standard error when the broker `HERALD_AMQP_URL` names cannot be
    /// used at start: 78 (EX_CONFIG) for a refused login, an unknown virtual host or a host name
    /// that does not resolve; 69 (EX_UNAVAILABLE) when nothing answered within the startup timeout.
    public func requireReachable(service: String, logger: Logger) {
        do {
            try verifyReachable { error in
                logger.warning("waiting for the broker named by HERALD_AMQP_URL", metadata: [
                    "amqp.broker": "\(redactedDescription)", "error": "\(error)",
                    "amqp.startup_timeout_seconds": "\(startupTimeout.components.seconds)",
                ])
            }
        } catch {
            let fatal = Self.isFatalAtStart(error)
            let waited = fatal ? "" : " within HERALD_AMQP_STARTUP_TIMEOUT (\(startupTimeout.components.seconds) s)"
            FileHandle.standardError.write(Data(
                "\(service): cannot start: the broker named by HERALD_AMQP_URL (\(redactedDescription)) cannot be used\(waited): \(error)\n".utf8))
            exit(fatal ? 78 : 69)
        }
    }
}
