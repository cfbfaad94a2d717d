import AMQP
import ArgumentParser
import Directory
import Foundation
import HeraldCore
import HeraldRuntime
import Logging

/// herald-load: measures Herald and the broker it runs on.
@main
struct HeraldLoad: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald-load",
        abstract: "Benchmark driver: the broker's raw ceiling and Herald's fan-out.",
        subcommands: [BrokerCeiling.self, FanOut.self])
}

/// Options shared by the subcommands.
struct CommonOptions: ParsableArguments {
    @Option(name: .customLong("amqp-url"), help: "Broker (default: $HERALD_AMQP_URL).") var amqpURL: String?
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func amqp() throws -> AMQPConfiguration {
        try AMQPConfiguration(url: amqpURL ?? EnvironmentReader().string("HERALD_AMQP_URL", default: AMQPConfiguration.defaultURL))
    }

    func report(_ title: String, _ rows: [(String, String)]) {
        if json {
            let object = Dictionary(uniqueKeysWithValues: rows)
            let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
            print(String(decoding: data, as: UTF8.self))
        } else {
            print(title)
            for (key, value) in rows { print("  " + key.padding(toLength: 30, withPad: " ", startingAt: 0) + value) }
        }
    }
}

func silentLogger() -> Logger {
    var logger = Logger(label: "herald-load")
    logger.logLevel = .error
    return logger
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

/// The broker's own ceiling: persistent, confirmed publishes of envelope-sized messages to a
/// quorum queue, with many in flight, then consuming them with acks.
struct BrokerCeiling: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "broker", abstract: "Raw confirmed publish and consume rate of a quorum queue.")
    @OptionGroup var common: CommonOptions
    @Option(help: "Messages to publish.") var messages = 200_000
    @Option(help: "Bytes per message (an envelope is about 600).") var size = 600
    @Option(help: "Messages per confirmed batch.") var batch = 500
    @Option(help: "Batches in flight at once.") var inFlight = 4

    func run() async throws {
        let queue = "herald.bench.ceiling"
        let configuration = try common.amqp()
        let admin = AMQPAdmin(configuration: configuration)
        try await admin.declareQuorumQueue(queue)
        try await admin.purge(queue: queue)
        let publisher = try AMQPPublisher(configuration: configuration, topology: nil, confirmTimeout: .seconds(30), name: "bench", logger: silentLogger())
        publisher.start()
        defer { publisher.shutdown() }
        guard await publisher.waitUntilConnected(timeout: .seconds(10)) else { throw ValidationError("broker not reachable") }
        let body = [UInt8](repeating: UInt8(ascii: "x"), count: size)
        let batches = (messages + batch - 1) / batch
        let started = ContinuousClock.now
        try await withThrowingTaskGroup(of: Void.self) { group in
            var running = 0
            for b in 0..<batches {
                if running >= inFlight { try await group.next(); running -= 1 }
                let count = min(batch, messages - b * batch)
                let items = (0..<count).map { OutgoingMessage(routingKey: queue, body: body, messageId: "m\(b)-\($0)") }
                group.addTask { try await publisher.publish(batch: items) }
                running += 1
            }
            try await group.waitForAll()
        }
        let publishTime = seconds(ContinuousClock.now - started)

        let consumer = try AMQPConsumer(configuration: configuration, topology: nil, queue: queue, prefetch: 1000, name: "bench", logger: silentLogger())
        consumer.start()
        let consumeStart = ContinuousClock.now
        var received = 0
        for await delivery in consumer.deliveries {
            consumer.ack(delivery)
            received += 1
            if received == messages { break }
        }
        let consumeTime = seconds(ContinuousClock.now - consumeStart)
        consumer.shutdown()
        try await admin.purge(queue: queue)
        common.report("raw broker ceiling (quorum queue, persistent, confirmed)", [
            ("messages", "\(messages)"), ("bytes", "\(size)"),
            ("publish_per_second", String(format: "%.0f", Double(messages) / publishTime)),
            ("consume_per_second", String(format: "%.0f", Double(received) / consumeTime)),
        ])
    }
}

/// One send to a large nested group, timed from publish to `dispatched` while herald-dispatcher runs.
struct FanOut: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fanout", abstract: "Seed an N-user group (two devices each), send once, time the fan-out.")
    @OptionGroup var common: CommonOptions
    @Option(name: .customLong("db"), help: "Database (default: $HERALD_DB_PATH).") var databasePath: String?
    @Option(help: "Users in the group; each has an iPhone and an Android phone.") var users = 100_000
    @Option(help: "Tenant to create for the run.") var tenant = "bench-fanout"

    func run() async throws {
        let database = try HeraldDatabase(path: databasePath ?? EnvironmentReader().string("HERALD_DB_PATH", default: ".herald/herald.sqlite"))
        let seedStart = ContinuousClock.now
        try await DirectoryImporter(database: database).importFile(Self.directory(tenant: tenant, users: users))
        let seedTime = seconds(ContinuousClock.now - seedStart)

        let store = SQLiteDirectoryStore(database: database)
        let expandStart = ContinuousClock.now
        let reached = try await store.users(tenantId: tenant, inGroup: "everyone")
        let expandTime = seconds(ContinuousClock.now - expandStart)
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
        let fanOutTime = seconds(ContinuousClock.now - started)
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
