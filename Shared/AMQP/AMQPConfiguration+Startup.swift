import CRabbitMQ
import Foundation
import HeraldCore

extension AMQPConfiguration {
    /// Connects once before a service starts, so that a wrong `HERALD_AMQP_URL` is one clear line
    /// at start rather than a warning repeated for ever. A refused login, an unknown virtual host or
    /// a host name that does not resolve fail at once; a broker that does not answer may still be
    /// starting, so it is tried again (backing off to 2 s) for up to `startupTimeout`, then fails.
    /// Once a service runs, losing the broker is not fatal: it reconnects on its own.
    /// - Parameter waiting: called once, with the first failure, when it starts waiting.
    public func verifyReachable(waiting: (AMQPError) -> Void = { _ in }) throws(AMQPError) {
        let deadline = ContinuousClock.now + startupTimeout
        var pause = Duration.milliseconds(100)
        var attempts = 0
        let count = nodes.count
        while true {
            do {
                // Each node of a list in turn: one that answers is enough.
                _ = try RabbitMQConnection(configuration: aimed(at: attempts))
                return
            } catch {
                // A login refused is refused by every node; a name that does not resolve is a
                // mistake only when it is the one node named.
                let fatal = Self.isFatalAtStart(error) && (count == 1 || Self.isRefusedLogin(error))
                if fatal || ContinuousClock.now + pause >= deadline { throw error }
                if attempts == 0 { waiting(error) }
                attempts += 1
                if attempts % count != 0 { continue }
            }
            Thread.sleep(forTimeInterval: pause.inSeconds)
            pause = min(pause * 2, .seconds(2))
        }
    }

    /// The broker refused the credentials or the virtual host.
    static func isRefusedLogin(_ error: AMQPError) -> Bool {
        if case .server = error { return true }
        return false
    }

    /// A mistake in the URL rather than a broker that is not up yet.
    public static func isFatalAtStart(_ error: AMQPError) -> Bool {
        switch error {
        case .server: true  // 403 ACCESS_REFUSED (user or password), 530 NOT_ALLOWED (virtual host)
        case .configuration: true  // a TLS file that cannot be read
        case .library(_, let status, _):
            // A certificate that does not verify stays so: waiting would not help.
            [
                AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED.rawValue, AMQP_STATUS_SSL_PEER_VERIFY_FAILED.rawValue,
                AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED.rawValue, AMQP_STATUS_SSL_CONNECTION_FAILED.rawValue,
            ].contains(status)
        default: false
        }
    }
}
