import AMQP
import Auth
import HeraldRuntime
import Hummingbird
import IngestApp
import Logging
import ServiceLifecycle
import Store

/// herald-ingest: validates, authorizes and durably enqueues custom notifications.
@main
struct IngestMain {
    static func main() async {
        let configuration: IngestConfiguration
        do {
            configuration = try IngestConfiguration(environment: EnvironmentReader.process())
        } catch {
            ServiceExit.configuration.exit("herald-ingest: \(error)")
        }
        configuration.logging.bootstrap()
        let registry = MetricsSetup.bootstrapPrometheus()
        let logger = Logger(label: "herald-ingest")
        do {
            try configuration.amqp.verifyAtStart(service: "herald-ingest", logger: logger)
        } catch {
            error.exit.exit(error.description)
        }
        do {
            let stores = try await configuration.store.open(logger: logger)
            let publisher = try AMQPPublisher(
                configuration: configuration.amqp,
                topology: Topology(),
                confirmTimeout: .milliseconds(configuration.confirmTimeoutMillis),
                name: "ingest",
                // A copy of a request is harmless: the dispatcher works on one copy of an id.
                ridesOutFailover: true,
                logger: logger
            )
            let shutdown = ShutdownFlag()
            let deps = IngestDependencies(
                stores: stores,
                publisher: publisher,
                tokens: await TokenService(settings: configuration.tokens),
                registry: registry,
                shutdown: shutdown,
                logger: logger,
                throttle: configuration.throttle,
                console: configuration.console,
                rateLimit: configuration.rateLimit
            )
            let app = buildApplication(
                deps,
                host: configuration.host,
                port: configuration.port,
                idleTimeoutSeconds: configuration.idleTimeoutSeconds
            )
            var groupConfiguration = ServiceGroupConfiguration(
                services: [
                    .init(service: PublisherService(publisher: publisher, logger: logger)),
                    .init(service: app),
                    // Listed last, so it hears the shutdown first: not ready, then the listener closes.
                    .init(
                        service: ShutdownSequence(
                            settings: configuration.shutdown,
                            logger: logger,
                            onShutdown: shutdown.set,
                            onOverrun: { ServiceExit.failure.exit() }
                        )
                    ),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
            groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdown.timeout
            let group = ServiceGroup(configuration: groupConfiguration)
            logger.info(
                "herald-ingest starting",
                metadata: [
                    "http.address": "\(configuration.host):\(configuration.port)",
                    "amqp.broker": "\(configuration.amqp.redactedDescription)",
                    "store": "\(configuration.store.redactedDescription)",
                ]
            )
            try await group.run()
        } catch {
            logger.critical("herald-ingest stopped", metadata: ["error": "\(error)"])
            ServiceExit.failure.exit()
        }
    }
}
