import Foundation
import HeraldCore
import LoadApp
import SQLiteStore
import Store
import TestSupport
import Testing

@Suite struct SyntheticDirectoryTests {
    let shape = DirectoryShape(seed: 11, tenants: 3, usersPerTenant: 60, groupsPerTenant: 8, tenantPrefix: "t-")

    @Test func theSameShapeGivesTheSameDirectory() {
        #expect(SyntheticDirectory(shape: shape).file == SyntheticDirectory(shape: shape).file)
        var other = shape
        other.seed = 12
        #expect(SyntheticDirectory(shape: other).file != SyntheticDirectory(shape: shape).file)
    }

    @Test func theDirectoryHasTheMixALoadTestNeeds() throws {
        let directory = SyntheticDirectory(shape: shape)
        let platforms = Set(directory.file.devices.map(\.platform))
        #expect(platforms == Set(Platform.allCases), "every platform, computers included")
        #expect(directory.file.devices.contains { !$0.enrolled })
        #expect(directory.file.devices.contains { !$0.notificationsAllowed })
        let members = directory.file.groups.flatMap { $0.members ?? [] }
        #expect(members.contains { $0.type == .group })
        #expect(members.contains { $0.type == .device })
        let encoded = try JSONEncoder().encode(directory.file)
        #expect(try DirectoryFile.parse(encoded) == directory.file, "it is a valid import file")
    }

    /// The generator works out the reach of each group on its own; Herald's store and
    /// eligibility rule must agree with it for every group, or a load run would report nonsense.
    @Test func theGeneratorsExpectationsAgreeWithHeraldsStore() async throws {
        let directory = SyntheticDirectory(shape: shape)
        let (database, _) = try temporaryDatabase()
        try await SQLiteDirectoryWriter(database: database).importFile(directory.file)
        let store = SQLiteDirectoryStore(database: database)
        for tenant in directory.tenants {
            for group in tenant.groupIds {
                let users = try await store.users(tenantId: tenant.id, inGroup: group)
                let devices = try await store.devices(tenantId: tenant.id, ofUsers: users)
                let eligible = Set(devices.filter { Eligibility.skipReason(for: $0) == nil }.map(\.id))
                #expect(eligible == directory.devices(tenant: tenant.id, groups: [group]), "\(tenant.id)/\(group)")
                for device in devices where eligible.contains(device.id) {
                    #expect(directory.route(tenant: tenant.id, device: device.id)?.rawValue == device.platform.pushRoute?.rawValue)
                }
            }
        }
    }

    @Test func thePlannerStaysWithinEachThrottleBudgetThenStops() {
        let directory = SyntheticDirectory(shape: shape)
        var planner = SendPlanner(directory: directory, mix: SendMix(groupShare: 0.5), seed: 3)
        var groupSends: [String: Int] = [:]
        var deviceSends: [String: Int] = [:]
        var planned = 0
        while let send = planner.next() {
            planned += 1
            switch send.kind {
            case .group: groupSends[send.tenant, default: 0] += 1
            case .device: deviceSends[send.path, default: 0] += 1
            }
            #expect(send.kind == .device ? send.expected.count == 1 : true)
        }
        #expect(planned > 0)
        #expect(groupSends.values.allSatisfy { $0 <= Limits.defaultGroupSendsPerWindow })
        #expect(deviceSends.values.allSatisfy { $0 <= Limits.defaultDeviceSendsPerWindow })
        #expect(
            groupSends.values.reduce(0, +) == planner.capacity.groupSends
                || deviceSends.values.reduce(0, +) == planner.capacity.deviceSends,
            "it ends when one kind's budget is used up"
        )
    }
}
