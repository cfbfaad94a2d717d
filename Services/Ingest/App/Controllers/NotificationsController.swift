import Foundation
import HeraldCore
import Hummingbird
import HTTPTypes
import NIOCore
import Directory

/// `/v1` routes: send to groups, send to a device, read a status.
struct NotificationsController: Sendable {
    let route: SendRoute
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
        let accepted: @Sendable (SendReceipt) -> Response = { receipt in
            let body = #"{"id":\#(JSONText.quoted(receipt.notificationId)),"status":"accepted"}"#
            return HTTPExchange.json(.accepted, Data(body.utf8), headers: SendRoute.location(receipt))
        }
        router.post("/v1/notifications") { request, _ in
            await route.handle(
                request, style: .problem, needs: .organizationUpdate, body: GroupSendBody.self, fieldNames: .v1,
                ask: { .init(title: $0.title, body: $0.body, target: .groups($0.groupIds)) }, respond: accepted)
        }
        router.post("/v1/devices/{deviceId}/notifications") { request, context in
            let deviceId = context.parameters.get("deviceId") ?? ""
            return await route.handle(
                request, style: .problem, needs: .sendCustomNotifications, body: DeviceSendBody.self, fieldNames: .v1,
                ask: { .init(title: $0.title, body: $0.body, target: .device(deviceId)) }, respond: accepted)
        }
        router.get("/v1/notifications/{id}") { request, context in
            await route.exchange.run(request, style: .problem) { _ throws(APIError) in
                let caller = try await route.authenticator.authenticate(request)
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
}
