import DispatcherApp
import HeraldRuntime
import Logging
import ServiceLifecycle
import Store

/// herald-dispatcher: turns accepted requests into per-device push envelopes.
@main
struct DispatcherMain {
    static func main() async {
        let configuration: DispatcherConfiguration
        do {
            configuration = try DispatcherConfiguration(environment: EnvironmentReader.process())
        } catch {
            ServiceExit.configuration.exit("herald-dispatcher: \(error)")
        }
        configuration.logging.bootstrap()
        let registry = MetricsSetup.bootstrapPrometheus()
        let logger = Logger(label: "herald-dispatcher")
        do {
            try configuration.amqp.verifyAtStart(service: "herald-dispatcher", logger: logger)
        } catch {
            error.exit.exit(error.description)
        }
        do {
            let stores = try await configuration.store.open(logger: logger)
            let dispatcher = try Dispatcher(configuration: configuration, stores: stores, logger: logger)
            let metrics = buildDispatcherMetricsApp(
                dispatcher: dispatcher,
                store: stores.engine,
                registry: registry,
                host: configuration.metricsHost,
                port: configuration.metricsPort,
                logger: logger
            )
            var groupConfiguration = ServiceGroupConfiguration(
                services: [
                    .init(service: dispatcher), .init(service: metrics),
                    .init(service: QueueDepthSampler(configuration: configuration.amqp, logger: logger) { dispatcher.isConnected }),
                    .init(service: ShutdownSequence(settings: configuration.shutdown, logger: logger) { ServiceExit.failure.exit() }),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
            groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdown.timeout
            let group = ServiceGroup(configuration: groupConfiguration)
            logger.info(
                "herald-dispatcher starting",
                metadata: [
                    "amqp.broker": "\(configuration.amqp.redactedDescription)", "store": "\(configuration.store.redactedDescription)",
                ]
            )
            try await group.run()
        } catch {
            logger.critical("herald-dispatcher stopped", metadata: ["error": "\(error)"])
            ServiceExit.failure.exit()
        }
    }
}
