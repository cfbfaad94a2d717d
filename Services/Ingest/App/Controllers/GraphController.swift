import Foundation
import HeraldCore
import Hummingbird
import HTTPTypes
import NIOCore

/// The Microsoft Graph-shaped routes, for callers written against Intune's API.
/// They answer 204 on success and Graph's error envelope on failure.
struct GraphController: Sendable {
    let exchange: HTTPExchange
    let authenticator: Authenticator
    let sender: SendService

    struct GroupSendBody: StrictBody {
        static let fields: Set<String> = ["notificationTitle", "notificationBody", "groupsToNotify"]
        var notificationTitle: String
        var notificationBody: String
        var groupsToNotify: [String]
    }

    struct DeviceSendBody: StrictBody {
        static let fields: Set<String> = ["notificationTitle", "notificationBody"]
        var notificationTitle: String
        var notificationBody: String
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.post("/deviceManagement/sendCustomNotificationToCompanyPortal") { request, _ in
            await exchange.run(request, style: .graph) { _, _ throws(APIError) in
                let caller = try await authenticator.authenticate(request)
                try caller.require(.organizationUpdate)
                let data = try await HTTPExchange.jsonBody(request)
                let body = try StrictJSON.decode(GroupSendBody.self, from: data)
                return try await accept(
                    SendCommand(title: body.notificationTitle, body: body.notificationBody, target: .groups(body.groupsToNotify),
                                idempotencyKey: try HTTPExchange.idempotencyKey(request),
                                requestHash: HTTPExchange.requestHash(request, body: data), fieldNames: .graph),
                    caller: caller)
            }
        }
        router.post("/deviceManagement/managedDevices/{id}/sendCustomNotificationToCompanyPortal") { request, context in
            await exchange.run(request, style: .graph) { _, _ throws(APIError) in
                let caller = try await authenticator.authenticate(request)
                try caller.require(.sendCustomNotifications)
                let data = try await HTTPExchange.jsonBody(request)
                let body = try StrictJSON.decode(DeviceSendBody.self, from: data)
                return try await accept(
                    SendCommand(title: body.notificationTitle, body: body.notificationBody,
                                target: .device(context.parameters.get("id") ?? ""),
                                idempotencyKey: try HTTPExchange.idempotencyKey(request),
                                requestHash: HTTPExchange.requestHash(request, body: data), fieldNames: .graph),
                    caller: caller)
            }
        }
    }

    private func accept(_ command: SendCommand, caller: Caller) async throws(APIError) -> Response {
        let receipt = try await sender.send(command, as: caller)
        if !receipt.replayed { IngestMetrics.request(outcome: "accepted") }
        var headers = HTTPFields()
        headers[.location] = "/v1/notifications/\(receipt.notificationId)"
        return Response(status: .noContent, headers: headers)
    }
}
