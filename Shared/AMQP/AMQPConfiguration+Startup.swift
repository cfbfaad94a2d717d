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
        while true {
            do {
                _ = try RabbitMQConnection(configuration: self)
                return
            } catch {
                if Self.isFatalAtStart(error) || ContinuousClock.now + pause >= deadline { throw error }
                if attempts == 0 { waiting(error) }
                attempts += 1
            }
            Thread.sleep(forTimeInterval: pause.inSeconds)
            pause = min(pause * 2, .seconds(2))
        }
    }

    /// A mistake in the URL rather than a broker that is not up yet.
    public static func isFatalAtStart(_ error: AMQPError) -> Bool {
        switch error {
        case .server: true  // 403 ACCESS_REFUSED (user or password), 530 NOT_ALLOWED (virtual host)
        case .library(_, let status, _): status == AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED.rawValue
        default: false
        }
    }
}
