import Foundation
import HTTPTypes
import HeraldCore
import Hummingbird
import IngestCore
import Logging
import Store

extension ConsoleController {
    /// Devices the list shows at once; the filters narrow the rest.
    static let deviceListLimit = 500
    /// Notifications the history shows.
    static let historyLimit = 100

    // MARK: Devices

    @Sendable func devicesPage(_ request: Request, context: Context) async throws -> Response {
        let visit = context.visit
        let signedIn = try context.requireIdentity()
        let query = request.uri.queryParameters
        let language = visit.language
        let platform = query["platform"].map(String.init).flatMap(Platform.init(rawValue:))
        let user = query["user"].map(String.init)?.trimmingCharacters(in: .whitespaces) ?? ""
        let eligibility = query["eligibility"].map(String.init) ?? ""
        let devices: [ManagedDevice]
        do { devices = try await directory.managedDevices(tenantId: signedIn.caller.tenantId) } catch {
            return visit.problem(.serviceUnavailable, message: language["error_storeUnavailable"])
        }
        let matching = devices.filter { managed in
            if let platform, managed.device.platform != platform { return false }
            if !user.isEmpty {
                let names = [managed.device.userId ?? "", managed.userDisplayName ?? ""]
                if !names.contains(where: { $0.localizedCaseInsensitiveContains(user) }) { return false }
            }
            switch eligibility {
            case "eligible": return Eligibility.skipReason(for: managed.device) == nil
            case "ineligible": return Eligibility.skipReason(for: managed.device) != nil
            default: return true
            }
        }
        let shown = matching.prefix(Self.deviceListLimit)
        let data: [String: Any] = [
            "rows": shown.map { deviceRow($0, signedIn: signedIn, language: language) },
            "noDevices": matching.isEmpty,
            "count": language.format(
                matching.count > shown.count ? "devices_countTruncated" : "devices_count",
                ["shown": shown.count, "count": matching.count]
            ),
            "user": user,
            "platforms": Platform.allCases.map { ["value": $0.rawValue, "name": $0.displayName, "selected": $0 == platform] },
            "eligibilityAll": eligibility.isEmpty, "eligibilityYes": eligibility == "eligible",
            "eligibilityNo": eligibility == "ineligible",
        ]
        return visit.page("devices", title: language["devices_title"], section: .devices, data: data)
    }

    private func deviceRow(_ managed: ManagedDevice, signedIn: ConsoleVisit.SignedIn, language: ConsoleLanguage) -> [String: Any] {
        let device = managed.device
        let reason = Eligibility.skipReason(for: device)
        let supported = device.platform.pushRoute != nil
        return [
            "id": device.id, "href": "/console/devices/\(Self.pathComponent(device.id))",
            "user": managed.userDisplayName ?? device.userId ?? "—", "userId": device.userId ?? "",
            "platform": device.platform.displayName,
            "eligible": reason == nil,
            "reason": reason.map { language["skip_\($0.rawValue)"] } ?? language["devices_canReceive"],
            "canSend": supported && Eligibility.acceptanceFailure(for: device) == nil && signedIn.canSendToDevices,
            "unsupported": supported ? false : language.format("devices_unsupported", ["platform": device.platform.displayName]),
        ]
    }

    @Sendable func devicePage(_ request: Request, context: Context) async throws -> Response {
        await devicePage(context.visit, try context.requireIdentity(), deviceId: context.parameters.get("id") ?? "")
    }

    func devicePage(
        _ visit: ConsoleVisit,
        _ signedIn: ConsoleVisit.SignedIn,
        deviceId: String,
        title: String = "",
        body: String = "",
        errors: [APIError] = [],
        topError: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async -> Response {
        let language = visit.language
        let tenant = signedIn.caller.tenantId
        let managed: ManagedDevice?
        do {
            managed = try await directory.managedDevice(tenantId: tenant, deviceId: deviceId)
        } catch {
            return visit.problem(.serviceUnavailable, message: language["error_storeUnavailable"])
        }
        // Another tenant's device is answered exactly like one that does not exist.
        guard let managed else { return visit.problem(.notFound, message: language["error_device_unknown"]) }
        var data = textFields(title, body, errors: errors, language: language)
        data["device"] = deviceRow(managed, signedIn: signedIn, language: language)
        data["action"] = "/console/devices/\(Self.pathComponent(deviceId))"
        data["submission"] = ConsoleSecurity.randomToken()
        let window = await throttleWindow(tenantId: tenant, deviceId: deviceId)
        data["budget"] = window?.budget(language) ?? false
        data["notice"] = window?.notice(language) ?? false
        data["noPermission"] = !signedIn.canSendToDevices
        if let topError {
            data["topError"] = topError
            data["hasErrors"] = true
        }
        return visit.page("device", title: language["device_title"], section: .devices, status: status, data: data)
    }

    /// *Send custom notification* on one device: title, body, send — no review step.
    @Sendable func deviceSend(_ request: Request, context: Context) async throws -> Response {
        let visit = context.visit
        let signedIn = try context.requireIdentity()
        let deviceId = context.parameters.get("id") ?? ""
        guard signedIn.canSendToDevices else { return forbidden(visit, .sendCustomNotifications) }
        let draft = NotificationDraft(form: context.form)
        let problems = SendService.textProblems(title: draft.title, body: draft.body, names: .console)
        guard problems.isEmpty else {
            return await devicePage(
                visit,
                signedIn,
                deviceId: deviceId,
                title: draft.title,
                body: draft.body,
                errors: problems,
                status: .unprocessableContent
            )
        }
        if let refusal = await throttleWindow(tenantId: signedIn.caller.tenantId, deviceId: deviceId)?.refusal(visit.language) {
            return await devicePage(
                visit,
                signedIn,
                deviceId: deviceId,
                title: draft.title,
                body: draft.body,
                topError: refusal,
                status: .tooManyRequests
            )
        }
        let command = SendCommand(
            title: draft.title,
            body: draft.body,
            target: .device(deviceId),
            idempotencyKey: draft.submission.map { "console-" + $0 },
            requestHash: ConsoleSecurity.hash(["device", deviceId, draft.title, draft.body]),
            fieldNames: .console
        )
        do {
            let receipt = try await sender.send(command, as: signedIn.caller, in: context)
            return ConsoleVisit.redirect("/console/notifications/\(receipt.notificationId)?created=1")
        } catch {
            if error.code == .forbidden { return forbidden(visit, .sendCustomNotifications) }
            if error.cause == .unknownDevice { return visit.problem(.notFound, message: visit.language["error_device_unknown"]) }
            let field = ConsoleLanguage.field(of: error)
            return await devicePage(
                visit,
                signedIn,
                deviceId: deviceId,
                title: draft.title,
                body: draft.body,
                errors: field == "title" || field == "body" ? [error] : [],
                topError: field == "title" || field == "body" ? nil : visit.language.explain(error),
                status: error.status
            )
        }
    }

    // MARK: Notifications

    @Sendable func notificationsPage(_ request: Request, context: Context) async throws -> Response {
        try await notifications(context.visit, try context.requireIdentity(), fragment: false)
    }

    /// The history's rows alone, which the page's script refreshes.
    @Sendable func notificationRows(_ request: Request, context: Context) async throws -> Response {
        try await notifications(context.visit, try context.requireIdentity(), fragment: true)
    }

    @Sendable func notificationPage(_ request: Request, context: Context) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        let created = request.uri.queryParameters["created"] != nil
        return await notification(context.visit, try context.requireIdentity(), id: id, created: created, fragment: false)
    }

    /// One notification's status alone, which the page's script refreshes.
    @Sendable func notificationStatus(_ request: Request, context: Context) async throws -> Response {
        let id = context.parameters.get("id") ?? ""
        return await notification(context.visit, try context.requireIdentity(), id: id, created: false, fragment: true)
    }

    private func notifications(_ visit: ConsoleVisit, _ signedIn: ConsoleVisit.SignedIn, fragment: Bool) async throws -> Response {
        let language = visit.language
        let recent: [NotificationStatus]
        do { recent = try await statuses.recent(tenantId: signedIn.caller.tenantId, limit: Self.historyLimit) } catch {
            return visit.problem(.serviceUnavailable, message: language["error_storeUnavailable"])
        }
        let data: [String: Any] = [
            "rows": recent.map { statusRow($0, language: language) },
            "noNotifications": recent.isEmpty,
            "budget": await throttleWindow(tenantId: signedIn.caller.tenantId)?.budget(language) ?? false,
        ]
        if fragment { return visit.fragment("notification-rows", data: data) }
        return visit.page("notifications", title: language["history_title"], section: .notifications, data: data)
    }

    private func notification(
        _ visit: ConsoleVisit,
        _ signedIn: ConsoleVisit.SignedIn,
        id: String,
        created: Bool,
        fragment: Bool
    )
        async -> Response
    {
        let language = visit.language
        let status: NotificationStatus?
        do { status = try await statuses.status(tenantId: signedIn.caller.tenantId, id: id) } catch {
            return visit.problem(.serviceUnavailable, message: language["error_storeUnavailable"])
        }
        guard let status else { return visit.problem(.notFound, message: language["error_notification_unknown"]) }
        let data: [String: Any] = ["n": statusRow(status, language: language), "created": created]
        if fragment { return visit.fragment("notification-status", data: data) }
        return visit.page("notification", title: language["notification_title"], section: .notifications, data: data)
    }

    private func statusRow(_ status: NotificationStatus, language: ConsoleLanguage) -> [String: Any] {
        let skipped = status.skipped.sorted { $0.key < $1.key }.map { reason, count in
            ["count": count, "reason": language["skip_\(reason)"]] as [String: Any]
        }
        // The push service's own reason codes (Unregistered, PayloadTooLarge…), as the API gives them.
        let failed = status.delivery.failed.sorted { $0.key < $1.key }.map { reason, count in
            ["count": count, "reason": reason] as [String: Any]
        }
        return [
            "id": status.id, "href": "/console/notifications/\(Self.pathComponent(status.id))",
            "statusHref": "/console/notifications/\(Self.pathComponent(status.id))/status",
            "apiHref": "/v1/notifications/\(Self.pathComponent(status.id))",
            "kind": language["kind_\(status.kind.rawValue)"],
            "targets": status.targets.map { $0.ids.joined(separator: ", ") } ?? false,
            "sentBy": status.initiator.map { initiator in
                [
                    "principal": initiator.principalId, "route": language["route_\(initiator.route.rawValue)"],
                    "token": initiator.tokenId ?? false,
                ] as [String: Any]
            } ?? false,
            "status": language["status_\(status.status.rawValue)"], "state": status.status.rawValue,
            "acceptedAt": Self.time(status.acceptedAt),
            "deferredUntil": status.deferredUntil.map(Self.time) ?? false,
            "dispatchedAt": status.dispatchedAt.map(Self.time) ?? false,
            "ios": status.envelopes["ios"] ?? 0, "android": status.envelopes["android"] ?? 0,
            "skipped": skipped, "hasSkipped": !skipped.isEmpty,
            "sent": status.delivery.sent, "sentTo": language.format("history_sentTo", ["count": status.delivery.sent]),
            "failed": failed,
            "expired": status.delivery.expired > 0 ? language.format("history_expired", ["count": status.delivery.expired]) : false,
            "pending": status.pendingPushes > 0 ? language.format("history_pending", ["count": status.pendingPushes]) : false,
            "reason": status.reason ?? false,
            // Dispatched is final for the page only once the gateway finished every push: until
            // then "Sent to N devices" still grows.
            "final": (status.status == .dispatched && status.pendingPushes == 0) || status.status == .throttled
                || status.status == .failed,
        ]
    }

    /// A time as administrators read it in every language: `2026-11-23 14:05:09 UTC`.
    static func time(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(timeZone: .gmt)).replacingOccurrences(of: "T", with: " ").replacingOccurrences(
            of: "Z",
            with: " UTC"
        )
    }

    static func pathComponent(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(CharacterSet(charactersIn: "/?#"))) ?? id
    }
}
