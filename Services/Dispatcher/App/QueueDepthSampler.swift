public import AMQP
public import Logging
public import ServiceLifecycle

/// Reads the depth of `herald.requests` and `herald.dead` from the broker every `interval` into
/// `herald_queue_messages{queue}`, so the dispatcher's `/metrics` shows the backlog autoscaling
/// watches and any dead letters, without the broker's management plugin.
///
/// It starts once the dispatcher's own connection is up, so the queues exist: a sample taken
/// before that failed for `herald.requests` (not declared yet on a new broker) and left the
/// gauge out until the next one. A failed sample is logged as a warning, once a minute at most.
public struct QueueDepthSampler: Service {
    let admin: AMQPAdmin
    let interval: Duration
    let logger: Logger
    let isReady: @Sendable () -> Bool

    /// - Parameter isReady: whether the topology is declared (the dispatcher is connected).
    public init(
        configuration: AMQPConfiguration,
        interval: Duration = .seconds(10),
        logger: Logger,
        isReady: @escaping @Sendable () -> Bool
    ) {
        admin = AMQPAdmin(configuration: configuration)
        self.interval = interval
        self.logger = logger
        self.isReady = isReady
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled, !isReady() { try? await Task.sleep(for: .milliseconds(100)) }
            var pace = WarningPace()
            while !Task.isCancelled {
                for queue in [Topology.requests, Topology.dead] {
                    do {
                        DispatcherMetrics.queueDepth(queue, try await admin.counts(queue: queue).messages)
                    } catch {
                        if pace.isDue() {
                            logger.warning(
                                "queue depth not read; herald_queue_messages keeps its last value",
                                metadata: [
                                    "queue": "\(queue)", "error": "\(error)",
                                ]
                            )
                        }
                    }
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
