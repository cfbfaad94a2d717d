public import Foundation

/// The rolling-window throttle rule: at most `limit` sends in any `window`
/// seconds, judged from the log of earlier sends (not fixed hour buckets).
public struct SlidingWindow: Sendable, Equatable {
    public var limit: Int
    public var window: TimeInterval

    public init(limit: Int, window: TimeInterval = Limits.throttleWindowSeconds) {
        self.limit = limit
        self.window = window
    }

    /// The oldest log time still inside the window at `now`.
    public func windowStart(at now: Date) -> Date { now.addingTimeInterval(-window) }

    /// nil when one more send fits at `now`; otherwise the moment room opens.
    ///
    /// - Parameter recent: the send times inside the window, oldest first.
    public func roomOpens(recent: [Date], at now: Date) -> Date? {
        let inWindow = recent.filter { $0 > windowStart(at: now) }
        guard inWindow.count >= limit else { return nil }
        // Room opens when enough old sends have left the window to bring the count below the limit.
        return inWindow[inWindow.count - limit].addingTimeInterval(window)
    }
}

/// What to do with a send over its throttle.
public enum ThrottlePolicy: String, Sendable, CaseIterable {
    /// Wait (without holding a consumer) until the window has room, then deliver.
    case `defer`
    /// Refuse: status `throttled`, and the request (without its text) goes to `herald.throttled`.
    case reject
}
