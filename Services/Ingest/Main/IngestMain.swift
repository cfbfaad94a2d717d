import AMQP
import Auth
import HeraldRuntime
import IngestApp

/// herald-ingest: validates, authorizes and durably enqueues custom notifications.
@main
struct IngestMain {
    static func main() async {
        ServiceMain.runTasksOnEventLoops()
        // Set first when a shutdown begins: /health/ready turns 503 before the listener closes.
        let shutdown = ShutdownFlag()
        await ServiceMain.run("herald-ingest", IngestConfiguration.self, onShutdown: shutdown.set) { configuration, logger, registry in
            // First: a JWKS file that cannot be used is a configuration mistake (exit 78).
            let tokens = try await makeTokenVerifier(configuration.tokens, logger: logger)
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
            let deps = IngestDependencies(
                stores: stores,
                publisher: publisher,
                tokens: tokens,
                registry: registry,
                shutdown: shutdown,
                logger: logger,
                throttle: configuration.throttle,
                console: configuration.console,
                rateLimit: configuration.rateLimit
            )
            let app = try buildApplication(
                deps,
                host: configuration.host,
                port: configuration.port,
                idleTimeoutSeconds: configuration.idleTimeoutSeconds,
                tls: configuration.httpTLS
            )
            return [PublisherService(publisher: publisher, logger: logger), app]
        }
    }
}
