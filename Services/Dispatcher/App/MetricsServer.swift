import Foundation
import HTTPTypes
import HeraldRuntime
public import Hummingbird
public import Logging
import NIOCore
public import Prometheus
public import Store

/// The dispatcher's small HTTP side: `/metrics`, `/health/live`, `/health/ready`.
public func buildDispatcherMetricsApp(
    dispatcher: Dispatcher,
    store engine: any StoreEngine,
    registry: PrometheusCollectorRegistry?,
    host: String,
    port: Int,
    logger: Logger
) -> some ApplicationProtocol {
    let router = Router(context: BasicRequestContext.self)
    router.get("/health/live") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
    }
    router.get("/health/ready") { _, _ in
        let broker = dispatcher.isConnected
        let store = await engine.isUsable()
        let ready = broker && store
        let body = #"{"status":"\#(ready ? "ready" : "unavailable")","broker":\#(broker),"database":\#(store)}"#
        return Response(
            status: ready ? .ok : .serviceUnavailable,
            headers: [.contentType: "application/json"],
            body: .init(byteBuffer: ByteBuffer(string: body))
        )
    }
    router.get("/metrics") { _, _ in
        Response(
            status: .ok,
            headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: MetricsSetup.render(registry)))
        )
    }
    return Application(
        router: router,
        configuration: .init(address: .hostname(host, port: port), serverName: "herald-dispatcher"),
        onServerRunning: { channel in
            logger.info("dispatcher metrics listening", metadata: ["http.address": "\(channel.localAddress?.description ?? "?")"])
        },
        logger: logger
    )
}
