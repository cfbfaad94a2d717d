import AMQP
import DispatcherApp
import Foundation
import GRDB
import HeraldCore
import LoadApp
import Logging
import SQLiteStore
import ServiceLifecycle
import Store
import Synchronization
import TestSupport
import Testing

/// A directory whose device reads take `delay` longer while `isSlow`, standing in for a busy store,
/// so a test can decide how long a fan-out takes; and whose device reads fail as a locked SQLite
/// file does (`SQLITE_BUSY`, which the engine calls unavailable) while `isDown`, after the first
/// `readsBeforeOutage`.
final class SlowDirectoryStore: DirectoryStore {
    let inner: any DirectoryStore
    let delay: Duration
    let isSlow = Atomic<Bool>(true)
    let isDown = Atomic<Bool>(false)
    let readsBeforeOutage: Int
    /// Device reads so far, and how many of them failed.
    let reads = Atomic<Int>(0)
    let refused = Atomic<Int>(0)

    init(_ inner: any DirectoryStore, delay: Duration, readsBeforeOutage: Int = 0) {
        self.inner = inner
        self.delay = delay
        self.readsBeforeOutage = readsBeforeOutage
    }

    func devices(tenantId: String, ofUsers userIds: [String]) async throws -> [Device] {
        let read = reads.add(1, ordering: .relaxed).newValue
        if read > readsBeforeOutage, isDown.load(ordering: .relaxed) {
            refused.add(1, ordering: .relaxed)
            throw DatabaseError(resultCode: .SQLITE_BUSY, message: "database is locked (test)")
        }
        if isSlow.load(ordering: .relaxed) { try await Task.sleep(for: delay) }
        return try await inner.devices(tenantId: tenantId, ofUsers: userIds)
    }

    func permissions(tenantId: String, principalId: String) async throws -> Set<Permission>? {
        try await inner.permissions(tenantId: tenantId, principalId: principalId)
    }
    func existingGroups(tenantId: String, groupIds: [String]) async throws -> Set<String> {
        try await inner.existingGroups(tenantId: tenantId, groupIds: groupIds)
    }
    func device(tenantId: String, deviceId: String) async throws -> Device? {
        try await inner.device(tenantId: tenantId, deviceId: deviceId)
    }
    func reachedGroups(tenantId: String, from groupIds: [String]) async throws -> [String] {
        try await inner.reachedGroups(tenantId: tenantId, from: groupIds)
    }
    func userMembers(tenantId: String, ofGroup groupId: String, after: String?, limit: Int) async throws -> [String] {
        try await inner.userMembers(tenantId: tenantId, ofGroup: groupId, after: after, limit: limit)
    }
    func groups(tenantId: String, matching search: String, limit: Int) async throws -> [GroupSummary] {
        try await inner.groups(tenantId: tenantId, matching: search, limit: limit)
    }
    func groups(tenantId: String, ids: [String]) async throws -> [GroupSummary] { try await inner.groups(tenantId: tenantId, ids: ids) }
    func managedDevices(tenantId: String) async throws -> [ManagedDevice] { try await inner.managedDevices(tenantId: tenantId) }
    func managedDevice(tenantId: String, deviceId: String) async throws -> ManagedDevice? {
        try await inner.managedDevice(tenantId: tenantId, deviceId: deviceId)
    }
}
