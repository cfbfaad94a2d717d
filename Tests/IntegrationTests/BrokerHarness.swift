import AMQP
import DispatcherApp
import Foundation
import HeraldCore
import HeraldRuntime
import IngestApp
import Logging
import ServiceLifecycle
import Store
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
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

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
        databasePath: "",
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

/// Runs `count` dispatchers (each with its own connections and database handle) around `body`,
/// then shuts them down gracefully.
func withDispatchers<T: Sendable>(
    _ count: Int = 1,
    databasePath: String,
    configuration: DispatcherConfiguration,
    _ body: () async throws -> T
) async throws -> T {
    let logger = quietLogger("dispatcher")
    let dispatchers = try (0..<count).map { _ in
        try Dispatcher(
            configuration: configuration,
            stores: DispatcherStores(sqlite: try HeraldDatabase(path: databasePath)),
            logger: logger
        )
    }
    return try await running(dispatchers, logger: logger) { _ in try await body() }
}

/// Ingest's router over a real, connected publisher.
func withIngest<T: Sendable>(
    directory: DirectoryFile = sampleDirectory(),
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
    let harness = try await IngestHarness(publisher: publisher, directory: directory)
    return try await body(harness, publisher)
}

extension Delivery {
    /// The body as a JSON object.
    var object: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]) ?? [:] }
    var reason: String? { if case .string(let s) = headers[Topology.reasonHeader] { s } else { nil } }
}
