import DispatcherApp
import HeraldRuntime

/// herald-dispatcher: turns accepted requests into per-device push envelopes.
@main
struct DispatcherMain {
    static func main() async {
        await ServiceMain.run("herald-dispatcher", DispatcherConfiguration.self) { configuration, logger, registry in
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
            return [
                dispatcher, metrics, QueueDepthSampler(configuration: configuration.amqp, logger: logger) { dispatcher.isConnected },
                AuditRetention(statuses: stores.statuses, days: configuration.auditRetentionDays, logger: logger),
            ]
        }
    }
}
