public import Hummingbird
public import Logging
import OperationsServer
public import Prometheus
public import Store

/// The dispatcher's small HTTP side: `/metrics`, `/health/live`, `/health/ready` (503 while the
/// broker or the store cannot be used).
public func buildDispatcherMetricsApp(
    dispatcher: Dispatcher,
    store engine: any StoreEngine,
    registry: PrometheusCollectorRegistry?,
    host: String,
    port: Int,
    logger: Logger
) -> some ApplicationProtocol {
    buildOperationsApp(
        serverName: "herald-dispatcher",
        readiness: {
            let broker = dispatcher.isConnected
            let store = await engine.isUsable()
            return (broker && store, #""broker":\#(broker),"database":\#(store)"#)
        },
        registry: registry,
        host: host,
        port: port,
        listeningMessage: "dispatcher metrics listening",
        logger: logger
    )
}
