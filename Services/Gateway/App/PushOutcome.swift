public import Foundation

/// What became of one push, and so what the gateway does with its envelope.
public enum PushOutcome: Equatable, Sendable {
    /// The push service accepted it: ack.
    case sent
    /// The token is dead (APNs `Unregistered`, `BadDeviceToken`; FCM `UNREGISTERED`, or
    /// `INVALID_ARGUMENT` on the token): clear the device's token if it is still this one, ack.
    case tokenGone(reason: String)
    /// Throttled or unavailable (429, 500, 503, no answer): try again later, after `after` when
    /// the service said so.
    case retry(reason: String, after: Duration?)
    /// The service refused the gateway's credentials (APNs 403, FCM 401): renew them once, then
    /// stop; the envelope is kept.
    case credentialsRefused(reason: String)
    /// Anything else the service refused: dead-letter with the reason.
    case failed(reason: String)

    /// The reason counted in the status's `delivery.failed` and in metrics.
    public var reason: String? {
        switch self {
        case .sent: nil
        case .tokenGone(let reason), .retry(let reason, _), .credentialsRefused(let reason), .failed(let reason): reason
        }
    }
}

/// How an APNs answer maps to an outcome (Apple's "Handling notification responses from APNs").
enum APNsAnswer {
    static func outcome(status: Int, reason: String?, retryAfter: String?) -> PushOutcome {
        let reason = reason ?? "HTTP\(status)"
        switch status {
        case 200: return .sent
        case 410: return .tokenGone(reason: reason)
        case 400 where reason == "BadDeviceToken": return .tokenGone(reason: reason)
        case 403: return .credentialsRefused(reason: reason)
        case 429, 500, 503: return .retry(reason: reason, after: RetryAfter.parse(retryAfter))
        default:
            // DeviceTokenNotForTopic among them: the token belongs to another app, which a wrong
            // HERALD_APNS_TOPIC would make every token look like; it is not cleared.
            return .failed(reason: reason)
        }
    }
}

/// How an FCM HTTP v1 answer maps to an outcome (Google's "FCM error codes").
enum FCMAnswer {
    static func outcome(status: Int, body: [String: Any], retryAfter: String?) -> PushOutcome {
        let error = body["error"] as? [String: Any]
        let details = error?["details"] as? [[String: Any]] ?? []
        let code = details.compactMap { $0["errorCode"] as? String }.first ?? error?["status"] as? String ?? "HTTP\(status)"
        switch status {
        case 200: return .sent
        case 401: return .credentialsRefused(reason: code)
        case 429, 500, 503: return .retry(reason: code, after: RetryAfter.parse(retryAfter))
        case 404 where code == "UNREGISTERED": return .tokenGone(reason: code)
        case 400 where code == "INVALID_ARGUMENT" && Self.blamesToken(details): return .tokenGone(reason: code)
        default: return .failed(reason: code)
        }
    }

    /// Whether a 400's field violations name the message's token.
    static func blamesToken(_ details: [[String: Any]]) -> Bool {
        details.contains { detail in
            (detail["fieldViolations"] as? [[String: Any]] ?? []).contains { ($0["field"] as? String) == "message.token" }
        }
    }
}

/// `Retry-After` in seconds or as an HTTP date.
enum RetryAfter {
    static func parse(_ text: String?, now: Date = Date()) -> Duration? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        if let seconds = Int(text) { return .seconds(max(0, seconds)) }
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "GMT")
        formatter.dateFormat = "EEE, dd MMM yyyy HH:mm:ss zzz"
        guard let date = formatter.date(from: text) else { return nil }
        return .seconds(max(0, Int(date.timeIntervalSince(now).rounded(.up))))
    }
}
