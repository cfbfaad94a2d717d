import AMQP
import DispatcherApp
import Foundation
import HeraldCore
import LoadApp
import Logging
import SQLiteStore
import ServiceLifecycle
import Store
import Synchronization
import TestSupport
import Testing

/// A status store that, before the first write of `state`, has another connection take SQLite's
/// write lock for `seconds` (beyond the 5 s busy timeout): the write then fails as a locked
/// database does, at exactly that point of the processing.
final class LockingStatusStore: StatusStore {
    let inner: SQLiteStatusStore
    let path: String
    let state: DeliveryState
    let seconds: Double
    let taken = Mutex<WriteLock?>(nil)

    init(database: HeraldDatabase, path: String, lockingBefore state: DeliveryState, seconds: Double = 10) {
        inner = SQLiteStatusStore(database: database)
        self.path = path
        self.state = state
        self.seconds = seconds
    }

    /// The lock, once taken.
    var lock: WriteLock? { taken.withLock { $0 } }

    func recordAccepted(_ status: NotificationStatus) async throws { try await inner.recordAccepted(status) }
    func status(tenantId: String, id: String) async throws -> NotificationStatus? { try await inner.status(tenantId: tenantId, id: id) }
    func recent(tenantId: String, limit: Int) async throws -> [NotificationStatus] {
        try await inner.recent(tenantId: tenantId, limit: limit)
    }
    func statusForOperator(id: String) async throws -> NotificationStatus? { try await inner.statusForOperator(id: id) }
    func reopenFailed(id: String) async throws -> Bool { try await inner.reopenFailed(id: id) }
    func trail(tenantId: String, since: Date, until: Date?, limit: Int) async throws -> [NotificationStatus] {
        try await inner.trail(tenantId: tenantId, since: since, until: until, limit: limit)
    }
    func prune(acceptedBefore cutoff: Date) async throws -> Int { try await inner.prune(acceptedBefore: cutoff) }

    func save(_ status: NotificationStatus) async throws {
        if status.status == state {
            let path = path
            let seconds = seconds
            try taken.withLock { lock in
                if lock == nil { lock = try WriteLock(path: path, seconds: seconds) }
            }
        }
        try await inner.save(status)
    }
}
