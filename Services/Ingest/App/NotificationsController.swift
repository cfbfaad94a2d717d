import Foundation
import HeraldCore
import Hummingbird
import IngestCore
import Store

/// The `/v1` routes: send to groups, send to a device, read a status.
struct NotificationsController: Sendable {
    let sender: SendService
    let statuses: any StatusStore

    struct GroupSendBody: StrictBody {
        static let fields: Set<String> = ["title", "body", "groupIds"]
        var title: String
        var body: String
        var groupIds: [String]

        static func quickRead(_ cursor: inout JSONCursor) -> Self? {
            cursor.members(["title", "body"], list: "groupIds").map { Self(title: $0.strings[0], body: $0.strings[1], groupIds: $0.list) }
        }
    }

    struct DeviceSendBody: StrictBody {
        static let fields: Set<String> = ["title", "body"]
        var title: String
        var body: String

        static func quickRead(_ cursor: inout JSONCursor) -> Self? {
            cursor.members(["title", "body"]).map { Self(title: $0.strings[0], body: $0.strings[1]) }
        }
    }

    /// Adds the routes to the `/v1` group.
    func addRoutes(to v1: RouterGroup<IngestRequestContext>) {
        v1.post("notifications", use: sendToGroups)
        v1.post("devices/{deviceId}/notifications", use: sendToDevice)
        v1.get("notifications/{id}", use: status)
    }

    @Sendable func sendToGroups(_ request: Request, context: IngestRequestContext) async throws -> Response {
        let caller = try await context.requireCaller(.organizationUpdate)
        let submission = try await SendSubmission<GroupSendBody>.read(request)
        let ask = submission.body
        let command = submission.command(title: ask.title, body: ask.body, target: .groups(ask.groupIds), fieldNames: .v1)
        return Self.accepted(try await sender.send(command, as: caller, in: context))
    }

    @Sendable func sendToDevice(_ request: Request, context: IngestRequestContext) async throws -> Response {
        let deviceId = context.parameters.get("deviceId") ?? ""
        let (caller, device) = try await context.requireCaller(.sendCustomNotifications, device: deviceId)
        let submission = try await SendSubmission<DeviceSendBody>.read(request)
        let ask = submission.body
        let command = submission.command(title: ask.title, body: ask.body, target: .device(deviceId), fieldNames: .v1)
        return Self.accepted(try await sender.send(command, as: caller, device: device, in: context))
    }

    @Sendable func status(_ request: Request, context: IngestRequestContext) async throws -> Response {
        let caller = try await context.requireCaller(anyOf: [.organizationUpdate, .sendCustomNotifications])
        let id = context.parameters.get("id") ?? ""
        let status: NotificationStatus?
        do {
            status = try await statuses.status(tenantId: caller.tenantId, id: id)
        } catch {
            throw APIError.storeUnavailable()
        }
        guard let status else { throw APIError.notFound("unknown notification id: \"\(id)\"") }
        return Response.json(.ok, (try? HeraldJSON.encoder.encode(status)) ?? Data())
    }

    /// 202 with the notification's id, and its status URL in `Location`.
    static func accepted(_ receipt: SendReceipt) -> Response {
        let body = #"{"id":\#(JSONText.quoted(receipt.notificationId)),"status":"accepted"}"#
        return Response.json(.accepted, Data(body.utf8), headers: [.location: receipt.statusPath])
    }
}
