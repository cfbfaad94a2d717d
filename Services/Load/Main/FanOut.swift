import AMQP
import ArgumentParser
import Directory
import Foundation
import LoadApp
import HeraldCore
import HeraldRuntime

/// One send to a large nested group, timed from publish to `dispatched` while herald-dispatcher runs.
struct FanOut: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout", abstract: "Seed an N-user group (two devices each), send once, time the fan-out.")
    @OptionGroup var common: CommonOptions
    @OptionGroup var database: DatabaseOption
    @Option(help: "Users in the group; each has an iPhone and an Android phone.") var users = 100_000
    @Option(help: "Tenant to create for the run.") var tenant = "bench-fanout"

    func run() async throws {
        let database = try self.database.open()
        let seedStart = ContinuousClock.now
        try await DirectoryImporter(database: database).importFile(Self.directory(tenant: tenant, users: users))
        let seedTime = (ContinuousClock.now - seedStart).inSeconds

        let store = SQLiteDirectoryStore(database: database)
        let expandStart = ContinuousClock.now
        let reached = try await store.users(tenantId: tenant, inGroup: "everyone")
        let expandTime = (ContinuousClock.now - expandStart).inSeconds
        guard reached.count == users else { throw ValidationError("expansion reached \(reached.count) users, expected \(users)") }

        let configuration = try common.amqp()
        let admin = AMQPAdmin(configuration: configuration, topology: Topology())
        for queue in [Topology.pushIOS, Topology.pushAndroid] { try await admin.purge(queue: queue) }
        let publisher = try AMQPPublisher(configuration: configuration, topology: Topology(), name: "bench", logger: silentLogger())
        publisher.start()
        defer { publisher.shutdown() }
        guard await publisher.waitUntilConnected(timeout: .seconds(10)) else { throw ValidationError("broker not reachable") }
        let request = NotificationRequest(
            id: NotificationID.make(), tenantId: tenant, principalId: "bench", target: .groups(["everyone"]),
            title: "Benchmark", body: "One send to a large nested group.", acceptedAt: Date())
        let statuses = SQLiteStatusStore(database: database)
        let started = ContinuousClock.now
        try await publisher.publish(OutgoingMessage(routingKey: Topology.requests, body: Array(try request.encoded()), messageId: request.id))
        var status: NotificationStatus?
        while status?.status != .dispatched {
            if ContinuousClock.now - started > .seconds(600) { throw ValidationError("not dispatched within 10 minutes (is herald-dispatcher running?)") }
            try await Task.sleep(for: .milliseconds(20))
            status = try await statuses.status(tenantId: tenant, id: request.id)
            if status?.status == .failed || status?.status == .throttled { throw ValidationError("status \(status!.status.rawValue): \(status?.reason ?? "")") }
        }
        let fanOutTime = (ContinuousClock.now - started).inSeconds
        let ios = try await admin.counts(queue: Topology.pushIOS).messages
        let android = try await admin.counts(queue: Topology.pushAndroid).messages
        for queue in [Topology.pushIOS, Topology.pushAndroid] { try await admin.purge(queue: queue) }
        common.report("fan-out of one send to a \(users)-user nested group", [
            ("users", "\(users)"), ("seed_seconds", String(format: "%.1f", seedTime)),
            ("expand_seconds", String(format: "%.3f", expandTime)),
            ("fanout_seconds", String(format: "%.2f", fanOutTime)),
            ("envelopes_expected", "\(2 * users)"), ("envelopes_on_queues", "\(ios + android)"),
            ("envelopes_per_second", String(format: "%.0f", Double(2 * users) / fanOutTime)),
        ])
        if ios + android < 2 * users { throw ValidationError("lost envelopes: \(2 * users - ios - android)") }
    }

    /// Users in three layers: "everyone" holds a third directly and nests "part-b", which nests "part-c".
    static func directory(tenant: String, users: Int) -> DirectoryFile {
        var file = DirectoryFile(tenants: [Tenant(id: tenant, name: tenant)])
        file.users = (0..<users).map { User(id: "u\($0)", tenantId: tenant, displayName: "User \($0)") }
        file.devices = (0..<users).flatMap { i in
            [Device(id: "i\(i)", tenantId: tenant, userId: "u\(i)", platform: .ios, enrolled: true, companyPortalInstalled: true,
                    notificationsAllowed: true, googlePlayServices: false, pushToken: String(format: "%064x", i)),
             Device(id: "a\(i)", tenantId: tenant, userId: "u\(i)", platform: .android, enrolled: true, companyPortalInstalled: true,
                    notificationsAllowed: true, googlePlayServices: true, pushToken: "fcm:" + String(format: "%0140x", i))]
        }
        let third = users / 3
        func members(_ range: Range<Int>) -> [GroupMember] { range.map { GroupMember(type: .user, id: "u\($0)") } }
        file.groups = [
            Group(id: "part-c", tenantId: tenant, displayName: "C", members: members(2 * third..<users)),
            Group(id: "part-b", tenantId: tenant, displayName: "B", members: members(third..<2 * third) + [GroupMember(type: .group, id: "part-c")]),
            Group(id: "everyone", tenantId: tenant, displayName: "Everyone", members: members(0..<third) + [GroupMember(type: .group, id: "part-b")]),
        ]
        return file
    }
}
