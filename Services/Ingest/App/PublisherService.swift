public import AMQP
public import Logging
public import ServiceLifecycle

/// Keeps the publisher's connection thread for the life of the process, and closes the
/// connection only after the HTTP server (which the group stops before it) has finished
/// its requests, so no request in flight loses its confirm.
public struct PublisherService: Service {
    let publisher: AMQPPublisher
    let logger: Logger

    public init(publisher: AMQPPublisher, logger: Logger) {
        self.publisher = publisher
        self.logger = logger
    }

    public func run() async throws {
        publisher.start()
        if !(await publisher.waitUntilConnected(timeout: .seconds(10))) {
            logger.warning("broker not reachable yet; sends answer 503 until it is")
        }
        try? await gracefulShutdown()
        publisher.shutdown()
    }
}
