import AMQP
import Foundation
import HeraldCore
import Store
import TestSupport
import Testing

extension BrokerTests {
    @Suite struct ProcessFaultTests {
        @Test(arguments: TestStoreEngine.allCases)
        func aDispatcherKilledInTheMiddleOfALargeFanOutLosesNothing(engine: TestStoreEngine) async throws {
            try await Broker.purgeAll()
            let users = 15_000
            let directory = nestedGroupDirectory(tenant: "big", users: users)

            try await withIngest(directory: directory, engine: engine) { harness, _ in
                let token = try await harness.token("big", "p-admin")
                let id = try await harness.run { client in
                    try await client.send(
                        .post,
                        "/v1/notifications",
                        token: token,
                        body: #"{"title":"Quarterly secret title","body":"a confidential body text","groupIds":["all"]}"#
                    ).field("id") ?? ""
                }
                let environment = [
                    "HERALD_AMQP_URL": ProcessInfo.processInfo.environment["HERALD_TEST_AMQP_URL"] ?? "",
                    "HERALD_DISPATCHER_METRICS_PORT": "0",
                    "HERALD_PUBLISH_BATCH": "100", "HERALD_LOG_FORMAT": "json", "HERALD_LOG_LEVEL": "debug",
                ].merging(harness.store.serviceEnvironment) { $1 }
                let admin = try Broker.admin()
                let first = try ServiceProcess("herald-dispatcher", environment: environment)
                let started = await eventually(timeout: .seconds(60)) {
                    ((try? await admin.counts(queue: Topology.pushIOS).messages) ?? 0) > 0
                }
                first.kill()
                #expect(started)
                let statusAtKill = try await harness.stores.statuses.statusForOperator(id: id)?.status
                #expect(statusAtKill != .dispatched, "the kill should land in the middle of the fan-out")

                let second = try ServiceProcess("herald-dispatcher", environment: environment)
                let finished = await dispatched(id, in: harness.stores, timeout: .seconds(120))
                second.terminate()
                #expect(finished)

                let envelopes = try await Broker.collect([Topology.pushIOS, Topology.pushAndroid], count: 10 * users, timeout: .seconds(3))
                let ids = Set(envelopes.compactMap(\.messageId))
                let expected = Set(
                    (0..<users).flatMap { i in
                        ["i\(i)", "a\(i)"].map { EnvelopeBuilder.envelopeId(notificationId: id, deviceId: $0) }
                    }
                )
                #expect(
                    ids == expected,
                    "every device's envelope arrived (missing \(expected.subtracting(ids).count), unexpected \(ids.subtracting(expected).count))"
                )
                #expect(envelopes.count >= 2 * users)
                let status = try #require(try await harness.stores.statuses.statusForOperator(id: id))
                #expect(status.envelopes == ["ios": users, "android": users])
                reliabilityRow(
                    "herald-dispatcher SIGKILLed mid fan-out, another started (\(engine.displayName))",
                    load: "one send to a 15,000-user nested group (30,000 envelopes)",
                    accepted: 1,
                    lost: expected.subtracting(ids).count,
                    duplicates: envelopes.count - ids.count,
                    test: "aDispatcherKilledInTheMiddleOfALargeFanOutLosesNothing"
                )

                // Neither process wrote the text or a push token to its log.
                for log in [first.log, second.log] {
                    #expect(log.contains("notification dispatched") || log.contains("dispatcher consuming"))
                    #expect(!log.contains("secret title"))
                    #expect(!log.contains("confidential body"))
                    #expect(!log.contains("secret-token"))
                }
            }
        }
    }
}
