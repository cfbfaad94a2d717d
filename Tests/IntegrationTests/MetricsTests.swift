import AMQP
import Foundation
import HeraldCore
import LoadApp
import SQLiteStore
import Store
import TestSupport
import Testing

extension BrokerTests {
    @Suite struct MetricsTests {
        /// The dispatcher's gauges read what is true now: `herald_dispatcher_in_flight` is 0 once it is
        /// idle, `herald_queue_messages` has `herald.requests` from its first sample on a new broker,
        /// and a request deferred through delay queues adds one consumer-lag observation, not one per return.
        @Test func theDispatchersMetricsTellTheTruthWhenIdle() async throws {
            try await Broker.purgeAll()
            // As on a new broker: the queue does not exist until a service declares it.
            try await Broker.admin().delete(queue: Topology.requests)
            let stack = try LocalStack(extra: ["HERALD_DEVICE_SENDS_PER_HOUR": "1", "HERALD_THROTTLE_WINDOW": "3"])
            defer { stack.stop() }
            try await stack.importDirectory(sampleDirectory())
            let dispatcher = try stack.startDispatcher()
            #expect(await eventually(timeout: .seconds(20)) { dispatcher.log.contains("dispatcher metrics listening") })
            let port = try #require(metricsPort(dispatcher.log))
            func metrics() async -> String {
                guard let connection = try? await HTTPConnection.connect(host: "127.0.0.1", port: port, group: .singleton) else {
                    return ""
                }
                defer { Task { await connection.close() } }
                return (try? await connection.request(.GET, "/metrics")).map { String(buffer: $0.body) } ?? ""
            }
            func value(_ text: String, _ series: String) -> Double? {
                text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
            }

            // The first sample, before the second one 10 s after start, already has herald.requests.
            let sampled = await eventually(timeout: .seconds(8)) {
                value(await metrics(), #"herald_queue_messages{queue="herald.requests"}"#) != nil
            }
            #expect(sampled, "herald.requests is sampled from the start")

            // Two sends to one device with room for one per 3 s: the second is deferred, comes back
            // from the 1 s delay queue and waits again until room opens.
            let sends = (0..<2).map { _ in
                NotificationRequest(
                    id: NotificationID.make(),
                    tenantId: "a",
                    principalId: "p-admin",
                    target: .device("d-phone"),
                    title: "t",
                    body: "b",
                    acceptedAt: Date()
                )
            }
            try await enqueue(sends)
            let database = try HeraldDatabase(path: stack.databasePath)
            for send in sends { #expect(await dispatched(send.id, in: database, timeout: .seconds(30))) }
            #expect(
                dispatcher.log.components(separatedBy: "notification deferred").count - 1 >= 2,
                "the second send came back deferred at least once"
            )

            let idle = await eventually(timeout: .seconds(10)) { value(await metrics(), "herald_dispatcher_in_flight") == 0 }
            let text = await metrics()
            #expect(idle, "in flight returns to 0 when idle: \(value(text, "herald_dispatcher_in_flight") ?? -1)")
            #expect(value(text, "herald_dispatcher_consumer_lag_seconds_count") == 2, "one lag observation per request")
        }
    }
}
