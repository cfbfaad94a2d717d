import Foundation
import HeraldCore
import Hummingbird
import HTTPTypes
import NIOCore

/// The steps every send route takes, in one order: authenticate (401), check the
/// permission (403), read the body (415, 413), decode it strictly (400), then the
/// shared send path (422, 404, 409, 503) — and answer in the route family's shape.
struct SendRoute: Sendable {
    let exchange: HTTPExchange
    let authenticator: Authenticator
    let sender: SendService

    /// What a decoded body asks for.
    struct Ask {
        var title: String
        var body: String
        var target: NotificationTarget
    }

    func handle<Body: StrictBody>(
        _ request: Request, style: APIError.Style, needs permission: Permission, body: Body.Type,
        fieldNames: SendCommand.FieldNames, ask: @escaping @Sendable (Body) -> Ask,
        respond: @escaping @Sendable (SendReceipt) -> Response
    ) async -> Response {
        await exchange.run(request, style: style) { logger throws(APIError) in
            let caller = try await authenticator.authenticate(request)
            try caller.require(permission)
            let data = try await HTTPExchange.jsonBody(request)
            let decoded = ask(try StrictJSON.decode(Body.self, from: data))
            // The hash only matters when a key is given: most requests skip it.
            let key = try HTTPExchange.idempotencyKey(request)
            let receipt = try await sender.send(
                SendCommand(title: decoded.title, body: decoded.body, target: decoded.target, idempotencyKey: key,
                            requestHash: key.map { _ in HTTPExchange.requestHash(request, body: data) }, fieldNames: fieldNames),
                as: caller, logger: logger)
            IngestMetrics.request(outcome: receipt.replayed ? "replayed" : "accepted")
            return respond(receipt)
        }
    }

    /// `Location` of a notification's status.
    static func location(_ receipt: SendReceipt) -> HTTPFields {
        var headers = HTTPFields()
        headers[.location] = "/v1/notifications/\(receipt.notificationId)"
        return headers
    }
}
