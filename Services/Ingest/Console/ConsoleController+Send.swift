import Foundation
import HTTPTypes
import HeraldCore
import Hummingbird
import IngestCore
import Logging
import Store

extension ConsoleController {
    /// The groups a search may show at once.
    static let groupSearchLimit = 200

    @Sendable func groupSendStart(_ request: Request, context: Context) async throws -> Response {
        let visit = context.visit
        let signedIn = try context.requireIdentity()
        guard signedIn.canSendToGroups else { return forbidden(visit, .organizationUpdate) }
        return await basics(visit, signedIn, NotificationDraft())
    }

    /// One step of Basics → Assignments → Review + create, by the step posted and the button pressed.
    @Sendable func groupSendStep(_ request: Request, context: Context) async throws -> Response {
        let visit = context.visit
        let signedIn = try context.requireIdentity()
        let form = context.form
        guard signedIn.canSendToGroups else { return forbidden(visit, .organizationUpdate) }
        let draft = NotificationDraft(form: form)
        let language = visit.language
        switch (form["step"] ?? "", form["action"] ?? "next") {
        case ("basics", _):
            let problems = SendService.textProblems(title: draft.title, body: draft.body, names: .console)
            guard problems.isEmpty else { return await basics(visit, signedIn, draft, errors: problems, status: .unprocessableContent) }
            return await assignments(visit, signedIn, draft)
        case ("assignments", "back"), ("review", "edit-basics"):
            return await basics(visit, signedIn, draft)
        case ("assignments", "search"), ("review", "back"):
            return await assignments(visit, signedIn, draft)
        case ("assignments", _):
            do {
                _ = try await sender.checkTarget(.groups(draft.groups), tenantId: signedIn.caller.tenantId, names: .console)
            } catch {
                return await assignments(visit, signedIn, draft, error: error)
            }
            return await review(visit, signedIn, draft)
        case ("review", "create"):
            if let refusal = await throttleWindow(tenantId: signedIn.caller.tenantId)?.refusal(language) {
                return await review(visit, signedIn, draft, topError: refusal, status: .tooManyRequests)
            }
            let command = SendCommand(
                title: draft.title,
                body: draft.body,
                target: .groups(draft.groups),
                idempotencyKey: draft.submission.map { "console-" + $0 },
                requestHash: ConsoleSecurity.hash(["groups", draft.title, draft.body] + draft.groups),
                fieldNames: .console
            )
            do {
                let receipt = try await sender.send(command, as: signedIn.caller, in: context)
                return ConsoleVisit.redirect("/console/notifications/\(receipt.notificationId)?created=1")
            } catch {
                switch ConsoleLanguage.field(of: error) {
                case "title", "body": return await basics(visit, signedIn, draft, errors: [error], status: error.status)
                case "groups": return await assignments(visit, signedIn, draft, error: error)
                default:
                    if error.code == .forbidden { return forbidden(visit, .organizationUpdate) }
                    return await review(visit, signedIn, draft, topError: language.explain(error), status: error.status)
                }
            }
        default:
            return await basics(visit, signedIn, draft)
        }
    }

    // MARK: The three tabs

    private func basics(
        _ visit: ConsoleVisit,
        _ signedIn: ConsoleVisit.SignedIn,
        _ draft: NotificationDraft,
        errors: [APIError] = [],
        status: HTTPResponse.Status = .ok
    ) async -> Response {
        var data = textFields(draft.title, draft.body, errors: errors, language: visit.language)
        data["groups"] = draft.groups.map { ["id": $0] }
        data["budget"] = await throttleWindow(tenantId: signedIn.caller.tenantId)?.budget(visit.language) ?? false
        data["step_basics"] = true
        return visit.page("send-basics", title: visit.language["send_title"], section: .send, status: status, data: data)
    }

    private func assignments(
        _ visit: ConsoleVisit,
        _ signedIn: ConsoleVisit.SignedIn,
        _ draft: NotificationDraft,
        error: APIError? = nil
    ) async -> Response {
        let language = visit.language
        let tenant = signedIn.caller.tenantId
        let found: [GroupSummary]
        let picked: [GroupSummary]
        do {
            found = try await directory.groups(tenantId: tenant, matching: draft.query, limit: Self.groupSearchLimit)
            picked = try await directory.groups(tenantId: tenant, ids: draft.groups)
        } catch {
            return visit.problem(.serviceUnavailable, message: language["error_storeUnavailable"])
        }
        // Picked groups stay listed (and ticked) whatever the search shows.
        let pickedIds = Set(picked.map(\.id))
        let rows = picked + found.filter { !pickedIds.contains($0.id) }
        var data: [String: Any] = [
            "title": draft.title, "body": draft.body, "query": draft.query, "step_assignments": true,
            "rows": rows.map { group in groupRow(group, language: language, checked: pickedIds.contains(group.id)) },
            "noGroups": rows.isEmpty,
            "selectedCount": language.format("assign_selected", ["count": draft.groups.count, "limit": Limits.groupsPerSendMax]),
            "limit": Limits.groupsPerSendMax,
            "truncated": found.count >= Self.groupSearchLimit
                ? language.format("assign_truncated", ["count": Self.groupSearchLimit]) : false,
        ]
        // Ids that vanished since they were picked are shown so they can be unticked.
        let missing = draft.groups.filter { !pickedIds.contains($0) }
        data["missing"] = missing.map { ["id": $0] }
        if let error {
            data["groupsError"] = language.explain(error)
            data["hasErrors"] = true
        }
        return visit.page(
            "send-assignments",
            title: language["send_title"],
            section: .send,
            status: error == nil ? .ok : error!.status,
            data: data
        )
    }

    private func review(
        _ visit: ConsoleVisit,
        _ signedIn: ConsoleVisit.SignedIn,
        _ draft: NotificationDraft,
        topError: String? = nil,
        status: HTTPResponse.Status = .ok
    ) async -> Response {
        let language = visit.language
        let picked: [GroupSummary]
        do {
            picked = try await directory.groups(tenantId: signedIn.caller.tenantId, ids: draft.groups)
        } catch {
            return visit.problem(.serviceUnavailable, message: language["error_storeUnavailable"])
        }
        let window = await throttleWindow(tenantId: signedIn.caller.tenantId)
        var data: [String: Any] = [
            "title": draft.title, "body": draft.body, "step_review": true,
            "rows": picked.map { groupRow($0, language: language, checked: true) },
            // A new key for each review: a changed draft is a new notification, a second click is not.
            "submission": draft.submission ?? ConsoleSecurity.randomToken(),
            "budget": window?.budget(language) ?? false,
            "notice": window?.notice(language) ?? false,
        ]
        if let topError {
            data["topError"] = topError
            data["hasErrors"] = true
        }
        return visit.page("send-review", title: language["send_title"], section: .send, status: status, data: data)
    }

    private func groupRow(_ group: GroupSummary, language: ConsoleLanguage, checked: Bool) -> [String: Any] {
        [
            "id": group.id, "name": group.displayName, "checked": checked,
            "members": language.format("assign_members", ["users": group.users]),
            "nested": group.nestedGroups > 0 ? language.format("assign_nested", ["count": group.nestedGroups]) : false,
        ]
    }

    // MARK: Shared by both flows

    /// The title and body fields, their counters, and their errors next to them.
    func textFields(_ title: String, _ body: String, errors: [APIError], language: ConsoleLanguage) -> [String: Any] {
        var data: [String: Any] = [
            "title": title, "body": body,
            "titleMax": Limits.titleMaxCharacters, "bodyMax": Limits.bodyMaxCharacters,
            "titleCount": title.count, "bodyCount": body.count,
        ]
        var top: [String] = []
        for error in errors {
            switch ConsoleLanguage.field(of: error) {
            case "title": data["titleError"] = language.explain(error)
            case "body": data["bodyError"] = language.explain(error)
            default: top.append(language.explain(error))
            }
        }
        if !top.isEmpty { data["topError"] = top.joined(separator: " ") }
        if !errors.isEmpty { data["hasErrors"] = true }
        return data
    }
}
