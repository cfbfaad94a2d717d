import Foundation
import HeraldCore
public import Logging
public import ServiceLifecycle

/// How a service stops on SIGTERM or SIGINT, read from the environment.
public struct ShutdownSettings: Sendable {
    /// The longest a graceful shutdown may take before work in progress is cancelled
    /// (`HERALD_SHUTDOWN_TIMEOUT`, seconds, default 30). Five seconds later the process exits regardless.
    public var timeout: Duration
    /// How long ingest keeps serving after `/health/ready` turned unhealthy, so load balancers
    /// stop sending before the listener closes (`HERALD_SHUTDOWN_DELAY`, seconds, default 2).
    public var readinessDelay: Duration

    public init(timeout: Duration = .seconds(30), readinessDelay: Duration = .zero) {
        self.timeout = timeout
        self.readinessDelay = readinessDelay
    }

    /// Reads both keys; the delay must be shorter than the timeout.
    public init(environment: EnvironmentReader, defaultDelaySeconds: Int) throws(ConfigurationError) {
        let timeout = try environment.int("HERALD_SHUTDOWN_TIMEOUT", default: 30, in: 1...3600)
        let delay = try environment.int("HERALD_SHUTDOWN_DELAY", default: defaultDelaySeconds, in: 0...3600)
        guard delay < timeout else {
            throw ConfigurationError(
                key: "HERALD_SHUTDOWN_DELAY",
                problem: "must be shorter than HERALD_SHUTDOWN_TIMEOUT (\(timeout) s), got \(delay)"
            )
        }
        self.init(timeout: .seconds(timeout), readinessDelay: .seconds(delay))
    }

    /// How long after the shutdown began the watchdog ends the process.
    public var hardLimit: Duration { timeout + .seconds(5) }
}

/// The first service to hear a graceful shutdown (list it last in the `ServiceGroup`, which
/// stops services in reverse order): it turns readiness off, waits `readinessDelay` so that
/// traffic moves elsewhere, and arms a watchdog that ends the process if draining outlives
/// `hardLimit`: the executable says what the watchdog does then (it exits). Then the group goes
/// on to stop the other services, last one first.
public struct ShutdownSequence: Service {
    private let settings: ShutdownSettings
    private let onShutdown: @Sendable () -> Void
    private let onOverrun: @Sendable () -> Void
    private let logger: Logger

    /// - Parameters:
    ///   - onShutdown: called once, first, when the shutdown begins (e.g. mark not ready).
    ///   - onOverrun: called from a thread of the watchdog's own (so a blocked task pool cannot
    ///     hold it up) when draining outlives `settings.hardLimit`.
    public init(
        settings: ShutdownSettings,
        logger: Logger,
        onShutdown: @escaping @Sendable () -> Void = {},
        onOverrun: @escaping @Sendable () -> Void
    ) {
        self.settings = settings
        self.onShutdown = onShutdown
        self.onOverrun = onOverrun
        self.logger = logger
    }

    public func run() async throws {
        do {
            try await gracefulShutdown()
        } catch {
            return  // cancelled: the group is ending for another reason
        }
        onShutdown()
        logger.info(
            "shutting down: not ready any more; finishing work in progress",
            metadata: [
                "shutdown.timeout_seconds": "\(settings.timeout.components.seconds)",
                "shutdown.delay_seconds": "\(settings.readinessDelay.components.seconds)",
            ]
        )
        let limit = settings.hardLimit
        let logger = logger
        let onOverrun = onOverrun
        Thread.detachNewThread {
            Thread.sleep(forTimeInterval: limit.inSeconds)
            logger.critical("shutdown did not finish within HERALD_SHUTDOWN_TIMEOUT (unacknowledged work returns to the queue)")
            onOverrun()
        }
        if settings.readinessDelay > .zero { try? await Task.sleep(for: settings.readinessDelay) }
    }
}
