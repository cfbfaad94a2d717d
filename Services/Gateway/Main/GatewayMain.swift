import GatewayApp
import HeraldRuntime
import Logging
import ServiceLifecycle
import Store

/// herald-gateway: pushes the envelopes on the platform queues to APNs and FCM.
@main
struct GatewayMain {
    static func main() async {
        let configuration: GatewayConfiguration
        do {
            configuration = try GatewayConfiguration(environment: EnvironmentReader.process())
        } catch {
            ServiceExit.configuration.exit("herald-gateway: \(error)")
        }
        configuration.logging.bootstrap()
        let registry = MetricsSetup.bootstrapPrometheus()
        let logger = Logger(label: "herald-gateway")
        do {
            try configuration.amqp.verifyAtStart(service: "herald-gateway", logger: logger)
        } catch {
            error.exit.exit(error.description)
        }
        do {
            let stores = try await configuration.store.open(logger: logger)
            let gateway = try await Gateway(configuration: configuration, stores: stores, logger: logger)
            let metrics = buildGatewayMetricsApp(
                gateway: gateway,
                store: stores.engine,
                registry: registry,
                host: configuration.metricsHost,
                port: configuration.metricsPort,
                logger: logger
            )
            var groupConfiguration = ServiceGroupConfiguration(
                services: [
                    .init(service: gateway), .init(service: metrics),
                    .init(service: ShutdownSequence(settings: configuration.shutdown, logger: logger) { ServiceExit.failure.exit() }),
                ],
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
            groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdown.timeout
            let group = ServiceGroup(configuration: groupConfiguration)
            logger.info(
                "herald-gateway starting",
                metadata: [
                    "amqp.broker": "\(configuration.amqp.redactedDescription)", "store": "\(configuration.store.redactedDescription)",
                    "apns": "\(configuration.push.apns?.baseURL ?? "off")", "fcm": "\(configuration.push.fcm?.baseURL ?? "off")",
                ]
            )
            try await group.run()
        } catch {
            logger.critical("herald-gateway stopped", metadata: ["error": "\(error)"])
            ServiceExit.failure.exit()
        }
    }
}
