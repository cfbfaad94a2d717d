public import Foundation
public import HeraldCore

/// The sliding-window log behind the throttles, shared by every dispatcher.
public protocol ThrottleLog: Sendable {
    /// Atomically checks `rule` for `scope` and, if a send fits, records this one.
    /// A notification already recorded under `scope` is admitted again without counting twice.
    /// - Returns: nil when admitted, otherwise when room opens.
    func admit(scope: String, notificationId: String, rule: SlidingWindow, now: Date) async throws -> Date?
    /// Sends recorded for `scope` inside the window at `now`.
    func used(scope: String, rule: SlidingWindow, now: Date) async throws -> Int
}

/// Scope keys, so a tenant's group sends and a device's sends never share a log. Each part is
/// escaped (`%` and `:` percent-encoded), so ids that contain `:` cannot make two scopes one:
/// tenant `a` with device `b:c` and tenant `a:b` with device `c` get different keys.
public enum ThrottleScope {
    public static func groupSends(tenantId: String) -> String { "group:" + escape(tenantId) }
    public static func deviceSends(tenantId: String, deviceId: String) -> String { "device:" + escape(tenantId) + ":" + escape(deviceId) }

    /// One part of a key, with `%` and `:` percent-encoded.
    static func escape(_ part: String) -> String {
        guard part.contains(where: { $0 == "%" || $0 == ":" }) else { return part }
        return part.replacingOccurrences(of: "%", with: "%25").replacingOccurrences(of: ":", with: "%3A")
    }
}
