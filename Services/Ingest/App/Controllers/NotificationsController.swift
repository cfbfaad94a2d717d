import Foundation
import HeraldCore
import Hummingbird
import HTTPTypes
import NIOCore
import Directory

/// `/v1` routes: send to groups, send to a device, read a status.
struct NotificationsController: Sendable {
    let exchange: HTTPExchange
    let authenticator: Authenticator
    let sender: SendService
    let statuses: any StatusStore

    struct GroupSendBody: StrictBody {
        static let fields: Set<String> = ["title", "body", "groupIds"]
        var title: String
        var body: String
        var groupIds: [String]
    }

    struct DeviceSendBody: StrictBody {
        static let fields: Set<String> = ["title", "body"]
        var title: String
        var body: String
    }

    func addRoutes(to router: Router<BasicRequestContext>) {
        router.post("/v1/notifications") { request, _ in
            await exchange.run(request, style: .problem) { requestId, _ throws(APIError) in
                let caller = try await authenticator.authenticate(request)
                try caller.require(.organizationUpdate)
                let data = try await HTTPExchange.jsonBody(request)
                let body = try StrictJSON.decode(GroupSendBody.self, from: data)
                return try await accept(
                    SendCommand(title: body.title, body: body.body, target: .groups(body.groupIds),
                                idempotencyKey: try HTTPExchange.idempotencyKey(request),
                                requestHash: HTTPExchange.requestHash(request, body: data)),
                    caller: caller)
            }
        }
        router.post("/v1/devices/{deviceId}/notifications") { request, context in
            await exchange.run(request, style: .problem) { requestId, _ throws(APIError) in
                let caller = try await authenticator.authenticate(request)
                try caller.require(.sendCustomNotifications)
                let deviceId = context.parameters.get("deviceId") ?? ""
                let data = try await HTTPExchange.jsonBody(request)
                let body = try StrictJSON.decode(DeviceSendBody.self, from: data)
                return try await accept(
                    SendCommand(title: body.title, body: body.body, target: .device(deviceId),
                                idempotencyKey: try HTTPExchange.idempotencyKey(request),
                                requestHash: HTTPExchange.requestHash(request, body: data)),
                    caller: caller)
            }
        }
        router.get("/v1/notifications/{id}") { request, context in
            await exchange.run(request, style: .problem) { _, _ throws(APIError) in
                let caller = try await authenticator.authenticate(request)
                guard caller.permissions.contains(.organizationUpdate) || caller.permissions.contains(.sendCustomNotifications) else {
                    throw APIError.forbidden("\(Permission.organizationUpdate.rawValue) or \(Permission.sendCustomNotifications.rawValue)")
                }
                let id = context.parameters.get("id") ?? ""
                let status: NotificationStatus?
                do { status = try await statuses.status(tenantId: caller.tenantId, id: id) } catch { throw APIError.storeUnavailable() }
                guard let status else { throw APIError.notFound("unknown notification id: \"\(id)\"") }
                let data = (try? HeraldJSON.encoder.encode(status)) ?? Data()
                return HTTPExchange.json(.ok, data)
            }
        }
    }

    private func accept(_ command: SendCommand, caller: Caller) async throws(APIError) -> Response {
        let receipt = try await sender.send(command, as: caller)
        if !receipt.replayed {
            IngestMetrics.request(outcome: "accepted")
        }
        let body = try? JSONSerialization.data(withJSONObject: ["id": receipt.notificationId, "status": "accepted"], options: [.sortedKeys])
        var headers = HTTPFields()
        headers[.location] = "/v1/notifications/\(receipt.notificationId)"
        return HTTPExchange.json(.accepted, body ?? Data(), headers: headers)
    }
}
