public import Foundation

/// What herald-gateway adds to a notification's status, per notification: pushes the services
/// accepted, envelopes dropped because they expired first, and failures by reason.
public struct DeliveryTally: Sendable, Equatable {
    public var sent: Int
    public var expired: Int
    public var failed: [String: Int]

    public init(sent: Int = 0, expired: Int = 0, failed: [String: Int] = [:]) {
        self.sent = sent
        self.expired = expired
        self.failed = failed
    }

    public var isEmpty: Bool { sent == 0 && expired == 0 && failed.values.allSatisfy { $0 == 0 } }

    /// This tally and `other`, added up.
    public mutating func add(_ other: DeliveryTally) {
        sent += other.sent
        expired += other.expired
        failed.merge(other.failed, uniquingKeysWith: +)
    }
}

/// herald-gateway's memory in the shared store, so that it holds across restarts and replicas.
public protocol PushLedger: Sendable {
    /// Of `ids`, the envelopes recorded as sent (a copy of one is not pushed again).
    func sent(among ids: [String], now: Date) async throws -> Set<String>
    /// Records envelopes as sent, each kept until `keepUntil` (its expiry: a later copy is
    /// dropped as expired anyway). Recording one twice keeps the later time.
    func recordSent(_ entries: [(id: String, keepUntil: Date)]) async throws
    /// Forgets sent envelopes kept until before `now`; how many.
    func purgeSent(before now: Date) async throws -> Int
    /// Clears a device's push token if it still is `token` (the directory may have a new one by
    /// now); whether it was cleared.
    func clearPushToken(tenantId: String, deviceId: String, ifStill token: String) async throws -> Bool
    /// Adds tallies to the notifications' delivery counts, which their status records show (a
    /// notification the store does not hold is skipped). A negative failure count takes failures
    /// back (`heraldctl push dead requeue`); a reason whose count is not above zero is not shown.
    func addDelivery(_ tallies: [String: DeliveryTally]) async throws
}
