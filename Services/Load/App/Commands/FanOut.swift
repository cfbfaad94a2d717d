import AMQP
import ArgumentParser
import Foundation
import HeraldCommandLine
import HeraldCore
import HeraldRuntime
import Store

/// Sends to a large nested group, timed from publish to `dispatched` while herald-dispatcher runs.
struct FanOut: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout",
        abstract: "Seed an N-user group (two devices each), send to it, time the fan-out.",
        discussion: """
            With --sends 2 or more, that many sends to the group are published at once. With --dispatcher-pid,
            the dispatcher's resident memory is sampled from /proc every 50 ms during the fan-out and its peak reported.
            """
    )
    @OptionGroup var common: CommonOptions
    @OptionGroup var database: DatabaseOptions
    @Option(help: "Users in the group; each has an iPhone and an Android phone.") var users = 100_000
    @Option(help: "Tenant to create for the run.") var tenant = "bench-fanout"
    @Option(help: "Sends to the group, published at once.") var sends = 1
    @Flag(help: "Keep the tenant's directory if it already holds the group with this many users (no new seed).") var reuseDirectory = false
    @Option(help: "herald-dispatcher's process id, to report its peak resident memory during the fan-out.") var dispatcherPid: Int32?

    func run() async throws {
        let stores = try await database.open()
        let store = stores.directory
        let seedStart = ContinuousClock.now
        var reused = false
        if reuseDirectory, try await store.userMembers(tenantId: tenant, ofGroup: "part-c", after: nil, limit: 1).count == 1 {
            reused = true
        } else {
            try await stores.writer.importFile(Self.directory(tenant: tenant, users: users))
        }
        let seedTime = (ContinuousClock.now - seedStart).inSeconds

        let expandStart = ContinuousClock.now
        let reached = try await store.users(tenantId: tenant, inGroup: "everyone")
        let expandTime = (ContinuousClock.now - expandStart).inSeconds
        guard reached.count == users else { throw ValidationError("expansion reached \(reached.count) users, expected \(users)") }

        let configuration = try common.amqp()
        let admin = AMQPAdmin(configuration: configuration, topology: Topology())
        for queue in [Topology.pushIOS, Topology.pushAndroid] { try await admin.purge(queue: queue) }
        let publisher = try await connectedPublisher(configuration, topology: Topology(), name: "bench")
        defer { publisher.shutdown() }
        let requests = (0..<sends).map { _ in
            NotificationRequest(
                id: NotificationID.make(),
                tenantId: tenant,
                principalId: "bench",
                target: .groups(["everyone"]),
                title: "Benchmark",
                body: "One send to a large nested group.",
                acceptedAt: Date()
            )
        }
        let memory = dispatcherPid.map(MemorySampler.init(pid:))
        memory?.start()
        let statuses = stores.statuses
        let started = ContinuousClock.now
        try await publisher.publish(
            batch: requests.map {
                OutgoingMessage(routingKey: Topology.requests, body: Array(try $0.encoded()), messageId: $0.id)
            }
        )
        for request in requests {
            var status: NotificationStatus?
            while status?.status != .dispatched {
                if ContinuousClock.now - started > .seconds(1800) {
                    throw ValidationError("not dispatched within 30 minutes (is herald-dispatcher running?)")
                }
                try await Task.sleep(for: .milliseconds(20))
                status = try await statuses.status(tenantId: tenant, id: request.id)
                if status?.status == .failed || status?.status == .throttled {
                    throw ValidationError("status \(status!.status.rawValue): \(status?.reason ?? "")")
                }
            }
        }
        let fanOutTime = (ContinuousClock.now - started).inSeconds
        let peakRSS = memory?.stop()
        let ios = try await admin.counts(queue: Topology.pushIOS).messages
        let android = try await admin.counts(queue: Topology.pushAndroid).messages
        for queue in [Topology.pushIOS, Topology.pushAndroid] { try await admin.purge(queue: queue) }
        let expected = 2 * users * sends
        var rows = [
            ("users", "\(users)"), ("sends", "\(sends)"), ("seed_seconds", String(format: "%.1f", seedTime)),
            ("directory_reused", "\(reused)"),
            ("expand_seconds", String(format: "%.3f", expandTime)),
            ("fanout_seconds", String(format: "%.2f", fanOutTime)),
            ("envelopes_expected", "\(expected)"), ("envelopes_on_queues", "\(ios + android)"),
            ("envelopes_per_second", String(format: "%.0f", Double(expected) / fanOutTime)),
        ]
        if let peakRSS { rows.append(("dispatcher_peak_rss_mb", String(format: "%.1f", Double(peakRSS) / 1024))) }
        common.report("fan-out of \(sends) send(s) to a \(users)-user nested group", rows)
        if ios + android < expected { throw ValidationError("lost envelopes: \(expected - ios - android)") }
    }

    /// Users in three layers: "everyone" holds a third directly and nests "part-b", which nests "part-c".
    static func directory(tenant: String, users: Int) -> DirectoryFile {
        var file = DirectoryFile(tenants: [Tenant(id: tenant, name: tenant)])
        file.users = (0..<users).map { User(id: "u\($0)", tenantId: tenant, displayName: "User \($0)") }
        file.devices = (0..<users).flatMap { i in
            [
                Device(
                    id: "i\(i)",
                    tenantId: tenant,
                    userId: "u\(i)",
                    platform: .ios,
                    enrolled: true,
                    companyPortalInstalled: true,
                    notificationsAllowed: true,
                    googlePlayServices: false,
                    pushToken: String(format: "%064x", i)
                ),
                Device(
                    id: "a\(i)",
                    tenantId: tenant,
                    userId: "u\(i)",
                    platform: .android,
                    enrolled: true,
                    companyPortalInstalled: true,
                    notificationsAllowed: true,
                    googlePlayServices: true,
                    pushToken: "fcm:" + String(format: "%0140x", i)
                ),
            ]
        }
        let third = users / 3
        func members(_ range: Range<Int>) -> [GroupMember] { range.map { GroupMember(type: .user, id: "u\($0)") } }
        file.groups = [
            Group(id: "part-c", tenantId: tenant, displayName: "C", members: members(2 * third..<users)),
            Group(
                id: "part-b",
                tenantId: tenant,
                displayName: "B",
                members: members(third..<2 * third) + [GroupMember(type: .group, id: "part-c")]
            ),
            Group(
                id: "everyone",
                tenantId: tenant,
                displayName: "Everyone",
                members: members(0..<third) + [GroupMember(type: .group, id: "part-b")]
            ),
        ]
        return file
    }
}

/// Samples a process's resident memory (`VmRSS` in /proc) on a thread of its own and keeps the peak.
final class MemorySampler: @unchecked Sendable {
    private let pid: Int32
    private let lock = NSLock()
    private var peakKB = 0
    private var running = true

    init(pid: Int32) { self.pid = pid }

    func start() {
        Thread.detachNewThread { [self] in
            while lock.withLock({ running }) {
                if let kb = Self.residentKB(pid) { lock.withLock { peakKB = max(peakKB, kb) } }
                Thread.sleep(forTimeInterval: 0.05)
            }
        }
    }

    /// Stops sampling; the peak in KiB.
    func stop() -> Int {
        lock.withLock {
            running = false
            return peakKB
        }
    }

    static func residentKB(_ pid: Int32) -> Int? {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8),
            let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") })
        else { return nil }
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "")
    }
}
