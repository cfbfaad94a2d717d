import Foundation
import HeraldCore
import HeraldRuntime
import Store

/// One throttle window as the console shows it: a tenant's group sends, or one device's sends,
/// read once per page from the log the dispatcher writes.
struct ConsoleThrottle {
    /// nil for the tenant's group sends.
    var deviceId: String?
    var used: Int
    var limit: Int
    var policy: ThrottlePolicy

    var full: Bool { used >= limit }

    /// "18 of 25 group sends left this hour".
    func budget(_ language: ConsoleLanguage) -> String {
        language.format(deviceId == nil ? "throttle_groupsLeft" : "throttle_deviceLeft", ["left": max(0, limit - used), "limit": limit])
    }

    /// With the `reject` policy and a full window, the console refuses at once rather than
    /// accept a send the dispatcher will refuse.
    func refusal(_ language: ConsoleLanguage) -> String? {
        guard policy == .reject, full else { return nil }
        return language.format(deviceId == nil ? "error_throttle_groups" : "error_throttle_device", ["limit": limit])
    }

    /// Before sending into a full window: that the send will wait (`defer`) or be refused (`reject`).
    func notice(_ language: ConsoleLanguage) -> String? {
        guard full else { return nil }
        return refusal(language) ?? language[deviceId == nil ? "notice_throttle_groups" : "notice_throttle_device"]
    }
}

extension ConsoleController {
    /// The window of the tenant's group sends (`deviceId` nil) or of one device; nil when the
    /// log cannot be read, and the page then says nothing about it.
    func throttleWindow(tenantId: String, deviceId: String? = nil) async -> ConsoleThrottle? {
        let (scope, rule) =
            deviceId.map { (ThrottleScope.deviceSends(tenantId: tenantId, deviceId: $0), throttle.deviceRule) }
            ?? (ThrottleScope.groupSends(tenantId: tenantId), throttle.groupRule)
        guard let used = try? await throttleLog.used(scope: scope, rule: rule, now: Date()) else { return nil }
        return ConsoleThrottle(deviceId: deviceId, used: used, limit: rule.limit, policy: throttle.policy)
    }
}
