public import AMQP
public import Logging
public import ServiceLifecycle

/// Reads the depth of `herald.requests` and `herald.dead` from the broker every `interval` into
/// `herald_queue_messages{queue}`, so the dispatcher's `/metrics` shows the backlog autoscaling
/// watches and any dead letters, without the broker's management plugin.
public struct QueueDepthSampler: Service {
    let admin: AMQPAdmin
    let interval: Duration
    let logger: Logger

    public init(configuration: AMQPConfiguration, interval: Duration = .seconds(10), logger: Logger) {
        admin = AMQPAdmin(configuration: configuration)
        self.interval = interval
        self.logger = logger
    }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            while !Task.isCancelled {
                for queue in [Topology.requests, Topology.dead] {
                    do {
                        DispatcherMetrics.queueDepth(queue, try await admin.counts(queue: queue).messages)
                    } catch {
                        logger.debug("queue depth not read", metadata: ["queue": "\(queue)", "error": "\(error)"])
                    }
                }
                try? await Task.sleep(for: interval)
            }
        }
    }
}
