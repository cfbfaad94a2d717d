import GatewayApp
import HeraldRuntime

/// herald-gateway: pushes the envelopes on the platform queues to APNs and FCM.
@main
struct GatewayMain {
    static func main() async {
        await ServiceMain.run("herald-gateway", GatewayConfiguration.self) { configuration, logger, registry in
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
            return [gateway, metrics]
        }
    }
}
