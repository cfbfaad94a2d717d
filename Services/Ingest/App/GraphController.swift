import HeraldCore
import Hummingbird
import IngestCore

/// The Microsoft Graph-shaped routes, for callers written against Intune's API.
/// They answer 204 on success and Graph's error envelope on failure.
struct GraphController: Sendable {
    let sender: SendService

    struct GroupSendBody: StrictBody {
        static let fields: Set<String> = ["notificationTitle", "notificationBody", "groupsToNotify"]
        var notificationTitle: String
        var notificationBody: String
        var groupsToNotify: [String]

        static func quickRead(_ cursor: inout JSONCursor) -> Self? {
            cursor.members(["notificationTitle", "notificationBody"], list: "groupsToNotify").map {
                Self(notificationTitle: $0.strings[0], notificationBody: $0.strings[1], groupsToNotify: $0.list)
            }
        }
    }

    struct DeviceSendBody: StrictBody {
        static let fields: Set<String> = ["notificationTitle", "notificationBody"]
        var notificationTitle: String
        var notificationBody: String

        static func quickRead(_ cursor: inout JSONCursor) -> Self? {
            cursor.members(["notificationTitle", "notificationBody"]).map {
                Self(notificationTitle: $0.strings[0], notificationBody: $0.strings[1])
            }
        }
    }

    /// Adds the routes to the `/deviceManagement` group.
    func addRoutes(to deviceManagement: RouterGroup<IngestRequestContext>) {
        deviceManagement.post("sendCustomNotificationToCompanyPortal", use: sendToGroups)
        deviceManagement.post("managedDevices/{id}/sendCustomNotificationToCompanyPortal", use: sendToDevice)
    }

    @Sendable func sendToGroups(_ request: Request, context: IngestRequestContext) async throws -> Response {
        let caller = try await context.requireCaller(.organizationUpdate)
        let submission = try await SendSubmission<GroupSendBody>.read(request)
        let ask = submission.body
        let command = submission.command(
            title: ask.notificationTitle,
            body: ask.notificationBody,
            target: .groups(ask.groupsToNotify),
            fieldNames: .graph
        )
        return Self.noContent(try await sender.send(command, as: caller, in: context))
    }

    @Sendable func sendToDevice(_ request: Request, context: IngestRequestContext) async throws -> Response {
        let deviceId = context.parameters.get("id") ?? ""
        let (caller, device) = try await context.requireCaller(.sendCustomNotifications, device: deviceId)
        let submission = try await SendSubmission<DeviceSendBody>.read(request)
        let ask = submission.body
        let command = submission.command(
            title: ask.notificationTitle,
            body: ask.notificationBody,
            target: .device(deviceId),
            fieldNames: .graph
        )
        return Self.noContent(try await sender.send(command, as: caller, device: device, in: context))
    }

    /// 204, with the notification's status URL in `Location`.
    static func noContent(_ receipt: SendReceipt) -> Response {
        Response(status: .noContent, headers: [.location: receipt.statusPath])
    }
}
