import HeraldCore
import IngestCore

extension ConsoleLanguage {
    /// An error of the shared send path in this language: what is wrong and what to do.
    func explain(_ error: APIError) -> String {
        switch error.cause {
        case .rule(let rule)?: return explain(rule, field: error.field ?? "")
        case .ineligible(let reason)?: return self["skip_\(reason.rawValue)"]
        case .unknownGroups(let ids)?: return format("error_groups_unknown", ["ids": ids.joined(separator: ", ")])
        case .unknownDevice?: return self["error_device_unknown"]
        case nil: break
        }
        switch error.code {
        case .forbidden: return format("error_forbidden", ["permission": error.permission ?? ""])
        case .unauthorized: return self["error_unauthorized"]
        case .brokerUnavailable: return self["error_brokerUnavailable"]
        case .brokerUnconfirmed: return self["error_brokerUnconfirmed"]
        case .storeUnavailable: return self["error_storeUnavailable"]
        case .rateLimited: return format("error_rateLimited", ["seconds": error.retryAfterSeconds ?? 1])
        case .idempotencyConflict: return self["error_conflict"]
        case .idempotencyInProgress: return self["error_inProgress"]
        default: return format("error_generic", ["code": error.code.description])
        }
    }

    /// A broken title, body or group rule in this language.
    func explain(_ rule: RuleViolation.Rule, field: String) -> String {
        let which = field.hasPrefix("title") ? "title" : "body"
        switch rule {
        case .empty: return self["error_\(which)_empty"]
        case .tooLong(let limit, let got): return format("error_\(which)_tooLong", ["limit": limit, "got": got])
        case .controlCharacter(let code, _): return format("error_controlCharacter", ["code": code])
        case .payloadTooLarge(let bytes, let limit): return format("error_payloadTooLarge", ["bytes": bytes, "limit": limit])
        case .emptyGroupId, .noGroups: return self["error_groups_none"]
        case .tooManyGroups(let limit, let got): return format("error_groups_tooMany", ["limit": limit, "got": got])
        }
    }

    /// Which form field an error belongs next to (`title`, `body`, `groups`, `device`), or nil for the top of the form.
    static func field(of error: APIError) -> String? {
        guard let field = error.field else { return nil }
        for name in ["title", "body", "groups", "device"] where field.hasPrefix(name) { return name }
        return nil
    }
}
