import Foundation
import HeraldCore
import Hummingbird
import HTTPTypes
import NIOCore

/// The Microsoft Graph-shaped routes, for callers written against Intune's API.
/// They answer 204 on success and Graph's error envelope on failure.
struct GraphController: Sendable {
    let route: SendRoute

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
        let noContent: @Sendable (SendReceipt) -> Response = { Response(status: .noContent, headers: SendRoute.location($0)) }
        router.post("/deviceManagement/sendCustomNotificationToCompanyPortal") { request, _ in
            await route.handle(
                request, style: .graph, needs: .organizationUpdate, body: GroupSendBody.self, fieldNames: .graph,
                ask: { .init(title: $0.notificationTitle, body: $0.notificationBody, target: .groups($0.groupsToNotify)) },
                respond: noContent)
        }
        router.post("/deviceManagement/managedDevices/{id}/sendCustomNotificationToCompanyPortal") { request, context in
            let deviceId = context.parameters.get("id") ?? ""
            return await route.handle(
                request, style: .graph, needs: .sendCustomNotifications, body: DeviceSendBody.self, fieldNames: .graph,
                ask: { .init(title: $0.notificationTitle, body: $0.notificationBody, target: .device(deviceId)) },
                respond: noContent)
        }
    }
}
