import AMQP
import DispatcherApp
import Foundation
import HeraldCore
import LoadApp
import Logging
import ServiceLifecycle
import Store
import Synchronization
import TestSupport
import Testing

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

/// Takes every envelope off the push queues while a test runs and counts the copies of each id.
final class EnvelopeTally: Sendable {
    private let collector: EnvelopeCollector
    private let task: Task<Void, Never>

    init() throws {
        let collector = try EnvelopeCollector(configuration: try Broker.configuration(), logger: quietLogger())
        self.collector = collector
        task = Task { await collector.run() }
    }

    /// Waits until at least `count` distinct envelope ids arrived, then a quiet second more for
    /// late copies; returns the copies of each id.
    func copies(atLeast count: Int, timeout: Duration = .seconds(120)) async -> [String: Int] {
        _ = await eventually(timeout: timeout) { self.collector.snapshot().arrivals.count >= count }
        var last = -1
        _ = await eventually(timeout: .seconds(20)) {
            let now = self.collector.received
            defer { last = now }
            if now == last { return true }
            try? await Task.sleep(for: .seconds(1))
            return false
        }
        return collector.snapshot().arrivals.mapValues(\.copies)
    }

    func stop() {
        collector.stop()
        task.cancel()
    }
}

/// A log handler that keeps every message, so a test can read what a service said.
struct RecordingLogHandler: LogHandler {
    final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
        func count(_ text: String) -> Int { all.filter { $0.contains(text) }.count }
    }

    let store: Lines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        store.append("\(event.level) \(event.message)")
    }

    /// A logger whose messages land in `store`.
    static func logger(_ store: Lines) -> Logger {
        Logger(label: "recorded") { _ in RecordingLogHandler(store: store) }
    }
}

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

/// Runs one in-process dispatcher on `stores` around `body`, then shuts it down gracefully.
func withDispatcher<T: Sendable>(
    stores: DispatcherStores,
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
        [
            Group(
                id: "half",
                tenantId: "big",
                displayName: "Half",
                members: (users / 2..<users).map { GroupMember(type: .user, id: "u\($0)") }
            ),
            Group(
                id: "all",
                tenantId: "big",
                displayName: "All",
                members: (0..<users / 2).map { GroupMember(type: .user, id: "u\($0)") } + [GroupMember(type: .group, id: "half")]
            ),
        ]
        + (0..<groups).map { g in
            Group(
                id: "g\(g)",
                tenantId: "big",
                displayName: "G\(g)",
                members: (0..<perGroup).map { GroupMember(type: .user, id: "u\((g * 7 + $0) % users)") }
            )
        }
    directory.roles = [Role(id: "sender", tenantId: "big", permissions: ["Organization.Update", "RemoteTasks.SendCustomNotifications"])]
    directory.principals = [Principal(id: "p", tenantId: "big", roles: ["sender"])]
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
        principalId: "p",
        target: .groups(groups),
        title: "t",
        body: "b",
        acceptedAt: date
    )
}

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
