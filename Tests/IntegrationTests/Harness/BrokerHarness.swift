import AMQP
import DispatcherApp
import Foundation
import GRDB
import HeraldCore
import HeraldRuntime
import IngestApp
import LoadApp
import Logging
import NIOCore
import SQLiteStore
import ServiceLifecycle
import Store
import Synchronization
import TestSupport
import Testing

/// The real broker that `make test` starts (`HERALD_TEST_AMQP_URL`).
enum Broker {
    struct Missing: Error, CustomStringConvertible {
        var description: String { "HERALD_TEST_AMQP_URL is not set: run the integration tests through `make test`, which starts a broker" }
    }

    static func url() throws -> String {
        guard let url = ProcessInfo.processInfo.environment["HERALD_TEST_AMQP_URL"] else { throw Missing() }
        return url
    }

    static func configuration() throws -> AMQPConfiguration { try AMQPConfiguration(url: try url()) }

    static func admin() throws -> AMQPAdmin { AMQPAdmin(configuration: try configuration(), topology: Topology()) }

    /// Empties every Herald queue, so a test sees only its own messages.
    static func purgeAll() async throws {
        let admin = try admin()
        for queue in Topology().allQueues {
            try await admin.purge(queue: queue)
        }
    }

    /// Takes messages off `queues` until `count` arrived or `timeout` passed (then returns what came).
    static func collect(_ queues: [String], count: Int, timeout: Duration = .seconds(20)) async throws -> [Delivery] {
        let admin = try admin()
        var out: [Delivery] = []
        let deadline = ContinuousClock.now + timeout
        while out.count < count, ContinuousClock.now < deadline {
            var got = 0
            for queue in queues {
                let batch = try await admin.take(queue: queue, max: count - out.count)
                got += batch.count
                out += batch
            }
            if got == 0 { try await Task.sleep(for: .milliseconds(50)) }
        }
        return out
    }

    /// Runs the local broker script against the test node (`stop-app`, `start-app`, `stop`, `start PORT`, `ctl …`).
    ///
    /// Through `system(3)`, not Foundation's `Process`: `start` leaves a detached Erlang node behind
    /// that inherits Process's internal descriptors, and `waitUntilExit` then never returns.
    static func script(_ command: String, _ arguments: [String] = []) throws {
        guard system(scriptLine(command, arguments) + " >/dev/null 2>&1 </dev/null") == 0 else {
            throw AMQPError.configuration("broker.sh \(command) failed")
        }
    }

    /// The repository's root folder.
    static let root = repositoryRoot

    /// The test node's name for the broker script (`HERALD_TEST_BROKER_NAME`).
    static var nodeName: String { ProcessInfo.processInfo.environment["HERALD_TEST_BROKER_NAME"] ?? "test" }

    /// The shell line that runs the broker script with `command` on the test node, each word quoted.
    static func scriptLine(_ command: String, _ arguments: [String]) -> String {
        let words = [root.appendingPathComponent("deploy/local/broker.sh").path, command, nodeName] + arguments
        return words.map { "'" + $0.replacingOccurrences(of: "'", with: "'\\''") + "'" }.joined(separator: " ")
    }
}

/// A dispatcher configuration for tests: small batches, no membership cache.
func dispatcherConfiguration(
    groupSends: Int = 25,
    deviceSends: Int = 10,
    window: Int = 3600,
    policy: ThrottlePolicy = .defer,
    cacheTTL: Int = 0
) throws -> DispatcherConfiguration {
    DispatcherConfiguration(
        amqp: try Broker.configuration(),
        throttle: ThrottleSettings(
            groupSendsPerWindow: groupSends,
            deviceSendsPerWindow: deviceSends,
            windowSeconds: window,
            policy: policy
        ),
        membershipCacheTTL: cacheTTL,
        envelopeTTL: 600,
        prefetch: 20,
        concurrency: 4,
        batchSize: 200
    )
}

/// Runs `count` dispatchers (each with its own broker connections and its own handle on the
/// harness's store, as processes have) around `body`, then shuts them down gracefully.
func withDispatchers<T: Sendable>(
    _ count: Int = 1,
    of harness: IngestHarness,
    configuration: DispatcherConfiguration,
    _ body: () async throws -> T
) async throws -> T {
    let logger = quietLogger("dispatcher")
    var dispatchers: [Dispatcher] = []
    for _ in 0..<count {
        dispatchers.append(try Dispatcher(configuration: configuration, stores: try await harness.anotherHandle(), logger: logger))
    }
    return try await running(dispatchers, logger: logger) { _ in try await body() }
}

/// Ingest's router over a real, connected publisher, on a fresh store of `engine`.
func withIngest<T: Sendable>(
    directory: DirectoryFile = sampleDirectory(),
    engine: TestStoreEngine = .sqlite,
    _ body: (IngestHarness, AMQPPublisher) async throws -> T
) async throws -> T {
    let publisher = try AMQPPublisher(
        configuration: try Broker.configuration(),
        topology: Topology(),
        name: "test-ingest",
        logger: quietLogger()
    )
    publisher.start()
    defer { publisher.shutdown() }
    #expect(await publisher.waitUntilConnected(timeout: .seconds(10)))
    let harness = try await IngestHarness(publisher: publisher, directory: directory, engine: engine)
    return try await body(harness, publisher)
}

extension Delivery {
    /// The body as a JSON object.
    var object: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:] }
    var reason: String? { if case .string(let s) = headers[Topology.reasonHeader] { s } else { nil } }
}

/// Waits until a notification's status is `dispatched`.
func dispatched(_ id: String, in stores: Stores, timeout: Duration = .seconds(20)) async -> Bool {
    await eventually(timeout: timeout) {
        (try? await stores.statuses.statusForOperator(id: id)?.status) == .dispatched
    }
}

/// Waits until a notification's status in an SQLite file is `dispatched`.
func dispatched(_ id: String, in database: HeraldDatabase, timeout: Duration = .seconds(20)) async -> Bool {
    await dispatched(id, in: Stores(sqlite: database), timeout: timeout)
}

extension Array {
    func asyncMap<T>(_ transform: (Element) async throws -> T) async rethrows -> [T] {
        var out: [T] = []
        for element in self { out.append(try await transform(element)) }
        return out
    }
}

/// One row of RELIABILITY.md's table, printed for `make test` to collect.
func reliabilityRow(_ fault: String, load: String, accepted: Int, lost: Int, duplicates: Int, test: String) {
    print("RELIABILITY| \(fault) | \(load) | \(accepted) | \(lost) | \(duplicates) | `make test` (\(test)) |")
}

/// A service's /metrics as sample name (with labels) → value.
func metrics(port: Int) async throws -> [String: Double] {
    let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: port, group: .singleton)
    let response = try await connection.request(.GET, "/metrics")
    await connection.close()
    var samples: [String: Double] = [:]
    for line in String(buffer: response.body).split(separator: "\n") where !line.hasPrefix("#") {
        guard let space = line.lastIndex(of: " "), let value = Double(line[line.index(after: space)...]) else { continue }
        samples[String(line[..<space])] = value
    }
    return samples
}

/// The port of a dispatcher's (or the gateway's) metrics server, from its "… metrics listening" log line.
func metricsPort(_ log: String, of service: String = "dispatcher") -> Int? {
    guard let line = log.split(separator: "\n").first(where: { $0.contains("\(service) metrics listening") }),
        let match = line.firstMatch(of: /127\.0\.0\.1:(\d+)/)
    else { return nil }
    return Int(match.1)
}

/// Faults of the broker node the tests run on, caused through its own tools.
extension Broker {
    /// Raises a real memory alarm (the node then blocks every connection that publishes), or clears it.
    static func memoryAlarm(_ on: Bool) throws {
        try script("ctl", on ? ["set_vm_memory_high_watermark", "absolute", "1MB"] : ["set_vm_memory_high_watermark", "0.4"])
    }

    /// Runs `body` with the memory alarm raised, and clears it afterwards whatever happens.
    static func duringMemoryAlarm<T>(_ body: () async throws -> T) async throws -> T {
        try memoryAlarm(true)
        do {
            let result = try await body()
            try memoryAlarm(false)
            return result
        } catch {
            try? memoryAlarm(false)
            throw error
        }
    }

    /// The Erlang VM of the test node (its pid file), to freeze it with SIGSTOP.
    static func nodePid() throws -> pid_t {
        let file = root.appendingPathComponent("deploy/local/var/\(nodeName)/rabbit.pid")
        guard let text = try? String(contentsOf: file, encoding: .utf8),
            let pid = pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
        else {
            throw AMQPError.configuration("no pid file at \(file.path)")
        }
        return pid
    }

    /// The output of `rabbitmqctl` on the test node.
    static func ctlOutput(_ arguments: [String]) throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent("ctl-\(UUID().uuidString).out")
        defer { try? FileManager.default.removeItem(at: output) }
        guard system(scriptLine("ctl", arguments) + " >'\(output.path)' 2>/dev/null </dev/null") == 0 else {
            throw AMQPError.configuration("rabbitmqctl \(arguments) failed")
        }
        return (try? String(contentsOf: output, encoding: .utf8)) ?? ""
    }

    /// The broker's ids (Erlang pids) of the connections that consume `queue` now.
    static func connectionsConsuming(_ queue: String) throws -> Set<String> {
        // Tab-separated rows without a header (`--silent`); the pids in the form close_connection takes.
        func rows(_ arguments: [String]) throws -> [[String]] {
            try ctlOutput(arguments + ["--silent"]).split(separator: "\n").map { $0.split(separator: "\t").map(String.init) }
        }
        let channels = Set(try rows(["list_consumers", "queue_name", "channel_pid"]).filter { $0.first == queue }.compactMap { $0.last })
        return Set(try rows(["list_channels", "pid", "connection"]).filter { channels.contains($0.first ?? "") }.compactMap { $0.last })
    }

    /// Closes a client connection from the broker's side, as a network cut or an operator would.
    static func closeConnection(_ pid: String) throws {
        try script("ctl", ["close_connection", pid, "closed by a Herald test"])
    }
}

/// Runs one in-process dispatcher on `stores` around `body`, then shuts it down gracefully.
func withDispatcher<T: Sendable>(
    stores: Stores,
    configuration: DispatcherConfiguration,
    logger: Logger = quietLogger("dispatcher"),
    _ body: () async throws -> T
) async throws -> T {
    try await running([try Dispatcher(configuration: configuration, stores: stores, logger: logger)], logger: logger) { _ in
        try await body()
    }
}

/// A tenant "big" whose group "all" reaches `users` users, each with one iPhone, half of them
/// through a nested group; and `groups` more groups "g0"… that each hold `perGroup` of them.
func bigDirectory(users: Int, groups: Int = 0, perGroup: Int = 0) -> DirectoryFile {
    var directory = DirectoryFile(tenants: [Tenant(id: "big", name: "Big")])
    directory.users = (0..<users).map { User(id: "u\($0)", tenantId: "big", displayName: "User \($0)") }
    directory.devices = (0..<users).map { i in
        Device(
            id: "i\(i)",
            tenantId: "big",
            userId: "u\(i)",
            platform: .ios,
            enrolled: true,
            companyPortalInstalled: true,
            notificationsAllowed: true,
            googlePlayServices: false,
            pushToken: "apns-token-\(i)"
        )
    }
    directory.groups =
        halfAndAll(tenant: "big", users: users)
        + (0..<groups).map { g in
            Group(
                id: "g\(g)",
                tenantId: "big",
                displayName: "G\(g)",
                members: (0..<perGroup).map { GroupMember(type: .user, id: "u\((g * 7 + $0) % users)") }
            )
        }
    directory.roles = [Role(id: "sender", tenantId: "big", permissions: ["Organization.Update", "RemoteTasks.SendCustomNotifications"])]
    directory.principals = [Principal(id: "p-admin", tenantId: "big", roles: ["sender"])]
    return directory
}

/// Puts accepted requests straight on `herald.requests`, as ingest would after its checks.
func enqueue(_ requests: [NotificationRequest]) async throws {
    let publisher = try AMQPPublisher(
        configuration: try Broker.configuration(),
        topology: Topology(),
        name: "test-enqueue",
        logger: quietLogger()
    )
    publisher.start()
    defer { publisher.shutdown() }
    _ = await publisher.waitUntilConnected(timeout: .seconds(10))
    for request in requests {
        try await publisher.publish(
            OutgoingMessage(routingKey: Topology.requests, body: Array(try request.encoded()), messageId: request.id)
        )
    }
}

func groupSend(_ groups: [String], tenant: String = "big", at date: Date = Date()) -> NotificationRequest {
    NotificationRequest(
        id: NotificationID.make(),
        tenantId: tenant,
        principalId: "p-admin",
        target: .groups(groups),
        title: "t",
        body: "b",
        acceptedAt: date
    )
}

/// herald-load as a careful client: every send has an Idempotency-Key and is retried when it
/// gets no answer or a 503; duplicate envelopes (same id) are reported but allowed.
func faultLoad(_ shape: [String], seconds: Int = 15) -> [String] {
    [
        "run", "--rate", "40", "--duration", "\(seconds)", "--group-share", "0.2", "--retries", "40", "--allow-duplicates",
        "--settle", "120", "--json",
    ] + shape
}

/// Waits until the dispatcher has dispatched at least `count` requests, so a fault lands mid-run.
func dispatchedAtLeast(_ count: Int, by dispatcher: ServiceProcess) async -> Bool {
    await eventually(timeout: .seconds(60)) { dispatcher.log.components(separatedBy: "notification dispatched").count > count }
}

/// A tenant whose group "all" holds `users` users, half directly and half through the nested group
/// "half"; user `u<i>` has an iPhone `i<i>` and an Android phone `a<i>`, all eligible, with push tokens
/// that say "secret-token" (so a test can look for them in logs). Principal `p-admin` may send.
func nestedGroupDirectory(tenant: String, users: Int) -> DirectoryFile {
    var directory = DirectoryFile(tenants: [Tenant(id: tenant, name: tenant)])
    directory.users = (0..<users).map { User(id: "u\($0)", tenantId: tenant, displayName: "User \($0)") }
    directory.devices = (0..<users).flatMap { i in
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
                pushToken: "apns-secret-token-\(i)"
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
                pushToken: "fcm-secret-token-\(i)"
            ),
        ]
    }
    directory.groups = halfAndAll(tenant: tenant, users: users)
    directory.roles = [Role(id: "r", tenantId: tenant, permissions: ["Organization.Update"])]
    directory.principals = [Principal(id: "p-admin", tenantId: tenant, roles: ["r"])]
    return directory
}

/// Users `u0`… of `tenant` in two groups: "all" holds the first half directly and nests "half",
/// which holds the rest.
func halfAndAll(tenant: String, users: Int) -> [Group] {
    [
        Group(
            id: "half",
            tenantId: tenant,
            displayName: "Half",
            members: (users / 2..<users).map { GroupMember(type: .user, id: "u\($0)") }
        ),
        Group(
            id: "all",
            tenantId: tenant,
            displayName: "All",
            members: (0..<users / 2).map { GroupMember(type: .user, id: "u\($0)") } + [GroupMember(type: .group, id: "half")]
        ),
    ]
}
