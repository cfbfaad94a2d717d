import Foundation
import HeraldCore
import SQLiteStore
import Store
import TestSupport
import Testing

@Suite struct DirectoryStoreTests {
    @Test(arguments: TestStoreEngine.allCases)
    func importIsIdempotentAndTenantScoped(_ engine: TestStoreEngine) async throws {
        let stores = try await engine.open().stores
        let importer = stores.writer
        try await importer.importFile(sampleDirectory())
        try await importer.importFile(sampleDirectory())
        let store = stores.directory
        #expect(try await store.device(tenantId: "a", deviceId: "d-phone")?.platform == .ios)
        #expect(try await store.device(tenantId: "b", deviceId: "d-phone")?.platform == .android)
        #expect(try await store.device(tenantId: "b", deviceId: "d-android-gms") == nil)
        #expect(try await store.existingGroups(tenantId: "b", groupIds: ["g-top", "g-mid"]) == ["g-top"])
        #expect(try await store.users(tenantId: "b", inGroup: "g-top") == ["u-top-and-mid"])
    }

    @Test(arguments: TestStoreEngine.allCases)
    func replacingATenantRemovesWhatTheFileNoLongerHasAndOnlyInThatTenant(_ engine: TestStoreEngine) async throws {
        let stores = try await engine.open().stores
        let importer = stores.writer
        try await importer.importFile(sampleDirectory())
        var smaller = sampleDirectory()
        smaller.tenants.removeAll { $0.id != "a" }
        smaller.users.removeAll { $0.tenantId != "a" }
        smaller.devices.removeAll { $0.tenantId != "a" || $0.id == "d-android-gms" }
        smaller.groups.removeAll { $0.tenantId != "a" }
        smaller.roles.removeAll { $0.tenantId != "a" }
        smaller.principals.removeAll { $0.tenantId != "a" }
        let store = stores.directory

        try await importer.importFile(smaller)
        #expect(try await store.device(tenantId: "a", deviceId: "d-android-gms") != nil, "a plain import merges")
        try await importer.importFile(smaller, replacingTenants: true)
        #expect(try await store.device(tenantId: "a", deviceId: "d-android-gms") == nil, "replaced: the file no longer has it")
        #expect(try await store.device(tenantId: "a", deviceId: "d-phone") != nil)
        #expect(try await store.device(tenantId: "b", deviceId: "d-phone") != nil, "another tenant is untouched")
        #expect(try await store.permissions(tenantId: "a", principalId: "p-admin") == [.organizationUpdate, .sendCustomNotifications])
    }

    /// Reads on the caller's thread see every write committed before them, from this process or
    /// another, and more reads at once than there are inline connections all get their answer.
    @Test func quickReadsSeeTheLatestWritesAndNeverWait() async throws {
        let (db, path) = try temporaryDatabase()
        let other = try HeraldDatabase(path: path)
        for round in 0..<20 {
            try await other.pool.write { db in
                try db.execute(sql: "INSERT INTO tenants (id, name) VALUES (?, 'T')", arguments: ["t\(round)"])
            }
            let count = try await db.quickRead { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tenants") }
            #expect(count == round + 1)
        }
        let answers = try await withThrowingTaskGroup(of: Int?.self) { group in
            for _ in 0..<50 {
                group.addTask { try await db.quickRead { db in try Int.fetchOne(db, sql: "SELECT COUNT(*) FROM tenants") } }
            }
            return try await group.reduce(into: [Int?]()) { $0.append($1) }
        }
        #expect(answers == Array(repeating: 20, count: 50))
    }

    /// The dispatcher holds a request on these instead of spending a delivery attempt on it.
    @Test func aLockedStoreIsUnavailableAndABadWriteIsNot() async throws {
        let (db, path) = try temporaryDatabase()
        let other = try HeraldDatabase(path: path, busyTimeout: 0.05)
        try await db.pool.write { db in try db.execute(sql: "INSERT INTO tenants (id, name) VALUES ('t', 'T')") }
        let badWrite = await #expect(throws: (any Error).self) {
            try await other.pool.write { db in try db.execute(sql: "INSERT INTO tenants (id, name) VALUES ('t', 'again')") }
        }
        #expect(!HeraldDatabase.isUnavailable(try #require(badWrite)), "a constraint violation is the request's fault")

        let locked = try await db.pool.writeWithoutTransaction { db -> (any Error)? in
            try db.execute(sql: "BEGIN IMMEDIATE")
            defer { try? db.execute(sql: "ROLLBACK") }
            do {
                try other.pool.barrierWriteWithoutTransaction { db in try db.execute(sql: "BEGIN IMMEDIATE; ROLLBACK") }
                return nil
            } catch {
                return error
            }
        }
        #expect(HeraldDatabase.isUnavailable(try #require(locked, "the second writer waited 50 ms and gave up")))
        #expect(!HeraldDatabase.isUnavailable(CancellationError()))
    }

    @Test(arguments: TestStoreEngine.allCases)
    func nestedGroupsExpandOnceAndCyclesEnd(_ engine: TestStoreEngine) async throws {
        let stores = try await engine.open().stores
        try await stores.writer.importFile(sampleDirectory())
        let store = stores.directory
        #expect(try await store.users(tenantId: "a", inGroup: "g-top") == ["u-mid-only", "u-top-and-mid"])
        #expect(try await store.users(tenantId: "a", inGroup: "g-mid") == ["u-mid-only", "u-top-and-mid"])
        // Device members are not users: a group of devices reaches nobody.
        #expect(try await store.users(tenantId: "a", inGroup: "g-devices-only") == [])
        #expect(try await store.users(tenantId: "a", inGroup: "unknown") == [])
        let devices = try await store.devices(tenantId: "a", ofUsers: ["u-top-and-mid", "u-mid-only"])
        #expect(devices.map(\.id) == ["d-android-gms", "d-phone"])
    }

    @Test(arguments: TestStoreEngine.allCases)
    func permissionsComeFromRolesAtReadTime(_ engine: TestStoreEngine) async throws {
        let stores = try await engine.open().stores
        let importer = stores.writer
        try await importer.importFile(sampleDirectory())
        let store = stores.directory
        #expect(try await store.permissions(tenantId: "a", principalId: "p-admin") == [.organizationUpdate, .sendCustomNotifications])
        #expect(try await store.permissions(tenantId: "a", principalId: "p-no-role") == [])
        #expect(try await store.permissions(tenantId: "a", principalId: "ghost") == nil)
        // Tenant b's "p-admin" is another principal with its own role.
        #expect(try await store.permissions(tenantId: "b", principalId: "p-admin") == [.organizationUpdate, .sendCustomNotifications])
        // Re-importing the principal with one role takes the other away at once.
        try await importer.importFile(DirectoryFile(principals: [Principal(id: "p-admin", tenantId: "a", roles: ["helpdesk"])]))
        #expect(try await store.permissions(tenantId: "a", principalId: "p-admin") == [.sendCustomNotifications])
    }

    @Test(arguments: TestStoreEngine.allCases)
    func aBadFileChangesNothing(_ engine: TestStoreEngine) async throws {
        let stores = try await engine.open().stores
        let importer = stores.writer
        try await importer.importFile(sampleDirectory())
        var bad = DirectoryFile(
            users: [User(id: "u9", tenantId: "a", displayName: "Nine")],
            groups: [Group(id: "g-top", tenantId: "a", displayName: "Top", members: [GroupMember(type: .user, id: "ghost")])]
        )
        let error = await #expect(throws: DirectoryFileError.self) { try await importer.importFile(bad) }
        #expect(error?.description == #"groups[0].members[0].id: unknown user "ghost" in tenant "a""#)
        let store = stores.directory
        #expect(try await store.users(tenantId: "a", inGroup: "g-top") == ["u-mid-only", "u-top-and-mid"])
        // u9 was written before the failure and rolled back with it.
        bad = DirectoryFile(groups: [Group(id: "g9", tenantId: "a", displayName: "G", members: [GroupMember(type: .user, id: "u9")])])
        await #expect(throws: DirectoryFileError.self) { try await importer.importFile(bad) }
        // A reference to another tenant's user is unknown too.
        let crossTenant = DirectoryFile(devices: [
            Device(
                id: "dx",
                tenantId: "b",
                userId: "u-mid-only",
                platform: .ios,
                enrolled: true,
                companyPortalInstalled: true,
                notificationsAllowed: true,
                googlePlayServices: false,
                pushToken: "t"
            )
        ])
        let cross = await #expect(throws: DirectoryFileError.self) { try await importer.importFile(crossTenant) }
        #expect(cross?.path == "devices[0].userId")
    }

    @Test(arguments: TestStoreEngine.allCases)
    func membershipChangesLive(_ engine: TestStoreEngine) async throws {
        let stores = try await engine.open().stores
        let importer = stores.writer
        try await importer.importFile(sampleDirectory())
        let store = stores.directory
        try await importer.addMember(tenantId: "a", groupId: "g-devices-only", member: GroupMember(type: .user, id: "u-no-eligible-device"))
        #expect(try await store.users(tenantId: "a", inGroup: "g-devices-only") == ["u-no-eligible-device"])
        try await importer.removeMember(
            tenantId: "a",
            groupId: "g-devices-only",
            member: GroupMember(type: .user, id: "u-no-eligible-device")
        )
        #expect(try await store.users(tenantId: "a", inGroup: "g-devices-only") == [])
        await #expect(throws: DirectoryFileError.self) {
            try await importer.addMember(tenantId: "a", groupId: "g-devices-only", member: GroupMember(type: .user, id: "nobody"))
        }
        await #expect(throws: DirectoryFileError.self) {
            try await importer.addMember(tenantId: "b", groupId: "g-mid", member: GroupMember(type: .user, id: "u-top-and-mid"))
        }
        await #expect(throws: DirectoryFileError.self) {
            try await importer.removeMember(tenantId: "a", groupId: "g-devices-only", member: GroupMember(type: .user, id: "u-top-and-mid"))
        }
    }
}

@Suite struct DatabaseOpeningTests {
    @Test func manyHandlesOpeningANewFileAtOnceAllSucceed() async throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("herald-open-\(UUID().uuidString)/h.sqlite").path
        let opened = try await withThrowingTaskGroup(of: Bool.self) { group in
            for _ in 0..<6 {
                group.addTask { await (try HeraldDatabase(path: path)).isUsable() }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        #expect(opened == 6)
    }
}
