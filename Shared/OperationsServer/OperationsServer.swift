import HTTPTypes
import HeraldRuntime
public import Hummingbird
public import Logging
import NIOCore
public import Prometheus

/// The small HTTP side of a worker (herald-dispatcher, herald-gateway): `/metrics`,
/// `/health/live` and `/health/ready`, which answers 200 or 503 with the JSON `readiness` gives.
public func buildOperationsApp(
    serverName: String,
    readiness: @escaping @Sendable () async -> (ready: Bool, fields: String),
    registry: PrometheusCollectorRegistry?,
    host: String,
    port: Int,
    listeningMessage: String,
    logger: Logger
) -> some ApplicationProtocol {
    let router = Router(context: BasicRequestContext.self)
    router.get("/health/live") { _, _ in
        Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(string: #"{"status":"ok"}"#)))
    }
    router.get("/health/ready") { _, _ in
        let (ready, fields) = await readiness()
        let body = #"{"status":"\#(ready ? "ready" : "unavailable")",\#(fields)}"#
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
        configuration: .init(address: .hostname(host, port: port), serverName: serverName),
        onServerRunning: { channel in
            logger.info("\(listeningMessage)", metadata: ["http.address": "\(channel.localAddress?.description ?? "?")"])
        },
        logger: logger
    )
}
