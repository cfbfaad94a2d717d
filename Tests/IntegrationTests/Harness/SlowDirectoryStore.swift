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

/// A directory whose device reads take `delay` longer while `isSlow`, standing in for a busy store,
/// so a test can decide how long a fan-out takes.
final class SlowDirectoryStore: DirectoryStore {
    let inner: any DirectoryStore
    let delay: Duration
    let isSlow = Atomic<Bool>(true)

    init(_ inner: any DirectoryStore, delay: Duration) {
        self.inner = inner
        self.delay = delay
    }

    func devices(tenantId: String, ofUsers userIds: [String]) async throws -> [Device] {
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
