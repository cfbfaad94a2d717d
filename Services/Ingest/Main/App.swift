import AMQP
import Auth
import Store
import Foundation
import HeraldRuntime
import IngestApp
import Logging
import ServiceLifecycle
import Hummingbird

/// herald-ingest: validates, authorizes and durably enqueues custom notifications.
@main
struct IngestMain {
    static func main() async {
        let configuration: IngestConfiguration
        do {
            configuration = try IngestConfiguration(environment: EnvironmentReader())
        } catch {
            FileHandle.standardError.write(Data("herald-ingest: \(error)\n".utf8))
            exit(78)  // EX_CONFIG
        }
        configuration.logging.bootstrap()
        let registry = MetricsSetup.bootstrapPrometheus()
        let logger = Logger(label: "herald-ingest")
        configuration.amqp.requireReachable(service: "herald-ingest", logger: logger)
        do {
            let database = try HeraldDatabase(path: configuration.databasePath)
            let publisher = try AMQPPublisher(
                configuration: configuration.amqp, topology: Topology(),
                confirmTimeout: .milliseconds(configuration.confirmTimeoutMillis), name: "ingest", logger: logger)
            let shutdown = ShutdownFlag()
            let deps = IngestDependencies(
                database: database, publisher: publisher, tokens: await TokenService(settings: configuration.tokens),
                registry: registry, shutdown: shutdown, logger: logger, throttle: configuration.throttle, console: configuration.console)
            let app = buildApplication(deps, host: configuration.host, port: configuration.port, idleTimeoutSeconds: configuration.idleTimeoutSeconds)
            var groupConfiguration = ServiceGroupConfiguration(
                services: [
                    .init(service: PublisherService(publisher: publisher, logger: logger)),
                    .init(service: app),
                    // Listed last, so it hears the shutdown first: not ready, then the listener closes.
                    .init(service: ShutdownSequence(settings: configuration.shutdown, logger: logger) { shutdown.set() }),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger)
            groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdown.timeout
            let group = ServiceGroup(configuration: groupConfiguration)
            logger.info("herald-ingest starting", metadata: [
                "http.address": "\(configuration.host):\(configuration.port)",
                "amqp.broker": "\(configuration.amqp.redactedDescription)",
                "db.path": "\(configuration.databasePath)",
            ])
            try await group.run()
        } catch {
            logger.critical("herald-ingest stopped", metadata: ["error": "\(error)"])
            exit(1)
        }
    }
}

/// Keeps the publisher's connection thread for the life of the process, and closes the
/// connection only after the HTTP server (which the group stops before it) has finished
/// its requests, so no request in flight loses its confirm.
struct PublisherService: Service {
    let publisher: AMQPPublisher
    let logger: Logger

    func run() async throws {
        publisher.start()
        if !(await publisher.waitUntilConnected(timeout: .seconds(10))) {
            logger.warning("broker not reachable yet; sends answer 503 until it is")
        }
        try? await gracefulShutdown()
        publisher.shutdown()
    }
}
