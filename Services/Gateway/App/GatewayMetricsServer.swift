public import Hummingbird
public import Logging
import OperationsServer
public import Prometheus
public import Store

/// The gateway's small HTTP side: `/metrics`, `/health/live`, `/health/ready` (503 while the
/// broker or the store cannot be used, or a platform stopped for refused credentials).
public func buildGatewayMetricsApp(
    gateway: Gateway,
    store engine: any StoreEngine,
    registry: PrometheusCollectorRegistry?,
    host: String,
    port: Int,
    logger: Logger
) -> some ApplicationProtocol {
    buildOperationsApp(
        serverName: "herald-gateway",
        readiness: {
            let ready = gateway.isReady
            let store = await engine.isUsable()
            let stopped = gateway.haltedPlatforms.keys.map { "\"\($0.rawValue)\"" }.sorted().joined(separator: ",")
            return (ready && store, #""database":\#(store),"stoppedPlatforms":[\#(stopped)]"#)
        },
        registry: registry,
        host: host,
        port: port,
        listeningMessage: "gateway metrics listening",
        logger: logger
    )
}
