public import Foundation
public import Logging
public import ServiceLifecycle
public import Store

/// Deletes notifications older than `HERALD_AUDIT_RETENTION_DAYS` — their status record, audit
/// trail and delivery counts — shortly after start and then every `interval`. Every dispatcher
/// does it; the deletes are idempotent, so several at once only repeat a cheap query.
public struct AuditRetention: Service {
    let statuses: any StatusStore
    let days: Int
    let interval: Duration
    let logger: Logger

    public init(statuses: any StatusStore, days: Int, interval: Duration = .seconds(3600), logger: Logger) {
        self.statuses = statuses
        self.days = days
        self.interval = interval
        self.logger = logger
    }

    /// The oldest acceptance time kept at `now`.
    public static func cutoff(days: Int, now: Date) -> Date { now.addingTimeInterval(-Double(days) * 86_400) }

    public func run() async throws {
        await cancelWhenGracefulShutdown {
            // Not in the first seconds, while the dispatcher catches up with a backlog.
            try? await Task.sleep(for: .seconds(30))
            while !Task.isCancelled {
                await pruneOnce(now: Date())
                try? await Task.sleep(for: interval)
            }
        }
    }

    /// One pass; a store that does not answer is tried again at the next.
    public func pruneOnce(now: Date) async {
        do {
            let removed = try await statuses.prune(acceptedBefore: Self.cutoff(days: days, now: now))
            if removed > 0 { logger.info("old notifications deleted", metadata: ["removed": "\(removed)", "retention.days": "\(days)"]) }
        } catch {
            logger.warning("old notifications not deleted; trying again later", metadata: ["error": "\(error)"])
        }
    }
}
