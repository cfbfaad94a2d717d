import Foundation
import HTTPTypes
import HeraldRuntime
import Hummingbird
import IngestCore
import NIOCore
import Prometheus
import Store

/// Health, metrics and the OpenAPI document. No authentication.
struct OperationsController: Sendable {
    let publisher: any RequestPublisher
    let store: any StoreEngine
    let registry: PrometheusCollectorRegistry?
    let shutdown: ShutdownFlag

    func addRoutes(to router: Router<IngestRequestContext>) {
        router.get("/health/live") { _, _ in
            Response.json(.ok, Data(#"{"status":"ok"}"#.utf8))
        }
        router.get("/health/ready") { _, _ in
            let broker = publisher.isReady
            let store = await store.isUsable()
            let draining = shutdown.isSet
            let ready = broker && store && !draining
            let body = #"{"status":"\#(ready ? "ready" : "unavailable")","broker":\#(broker),"database":\#(store),"draining":\#(draining)}"#
            return Response.json(ready ? .ok : .serviceUnavailable, Data(body.utf8))
        }
        router.get("/metrics") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "text/plain; version=0.0.4; charset=utf-8"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: MetricsSetup.render(registry))))
        }
        router.get("/openapi.yaml") { _, _ in
            var headers = HTTPFields()
            headers[.contentType] = "application/yaml"
            return Response(status: .ok, headers: headers, body: .init(byteBuffer: ByteBuffer(bytes: OpenAPIDocument.bytes)))
        }
    }
}

/// The OpenAPI 3.1 document kept in `Resources/openapi.yaml`.
enum OpenAPIDocument {
    static let bytes: [UInt8] = {
        guard let url = Bundle.module.url(forResource: "openapi", withExtension: "yaml"),
            let data = try? Data(contentsOf: url)
        else { return Array("openapi: 3.1.0\n".utf8) }
        return Array(data)
    }()
}
