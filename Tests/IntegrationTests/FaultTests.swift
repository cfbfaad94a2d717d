import AMQP
import Foundation
import GRDB
import HeraldCore
import LoadApp
import SQLiteStore
import Store
import TestSupport
import Testing

extension BrokerTests {
    @Suite struct FaultTests {
        @Test(arguments: TestStoreEngine.allCases)
        func aBrokerRestartUnderLoadLosesNothingAccepted(engine: TestStoreEngine) async throws {
            try await Broker.purgeAll()
            let stack = try await LocalStack.on(engine)
            defer { stack.stop() }
            let shape = ["--tenants", "6", "--users", "40", "--groups", "6", "--tenant-prefix", "restart-"]
            #expect(try await stack.tool("herald-load", ["seed"] + shape).status == 0)
            try await stack.startIngest()
            let dispatcher = try stack.startDispatcher()
            let load = try stack.launch("herald-load", faultLoad(shape))
            #expect(await dispatchedAtLeast(40, by: dispatcher))

            // Stop and start the whole node (its data stays): every connection drops, queues survive.
            let port = URLComponents(string: try Broker.url())?.port ?? 5673
            try Broker.script("stop")
            #expect(await eventually(timeout: .seconds(20)) { await stack.readiness() == 503 }, "ingest reports it cannot accept")
            try Broker.script("start", [String(port)])
            #expect(await eventually(timeout: .seconds(60)) { await stack.isReady() }, "ingest recovers without a restart")

            let (_, output) = await load.finish()
            let outcome = try LoadRunOutcome(output)
            #expect(outcome.accepted > 200)
            #expect(outcome.envelopes.lost == 0, "every 202 got its envelopes")
            #expect(outcome.envelopes.unexpected == 0)
            #expect(outcome.envelopes.wrongQueue == 0)
            #expect(outcome.envelopes.received >= outcome.envelopes.expected)
            outcome.row("broker node stopped and started (\(engine.displayName))", test: "aBrokerRestartUnderLoadLosesNothingAccepted")
        }

        @Test(arguments: TestStoreEngine.allCases)
        func ingestKilledUnderLoadLosesNothingAndRetriesMakeNoSecondNotification(engine: TestStoreEngine) async throws {
            try await Broker.purgeAll()
            let stack = try await LocalStack.on(engine)
            defer { stack.stop() }
            let shape = ["--tenants", "6", "--users", "40", "--groups", "6", "--tenant-prefix", "killingest-"]
            #expect(try await stack.tool("herald-load", ["seed"] + shape).status == 0)
            let first = try await stack.startIngest()
            let dispatcher = try stack.startDispatcher()
            let load = try stack.launch("herald-load", faultLoad(shape))
            #expect(await dispatchedAtLeast(40, by: dispatcher))

            first.kill()
            try await stack.startIngest()

            let (_, output) = await load.finish()
            let outcome = try LoadRunOutcome(output)
            #expect(outcome.accepted > 200)
            #expect(outcome.retries > 0, "some sends got no answer from the killed ingest")
            #expect(outcome.envelopes.lost == 0, "every 202 got its envelopes")
            // A send whose answer was lost but whose request reached the broker would show up here as
            // a stranger if its retry had made a second notification instead of reusing the id.
            #expect(outcome.envelopes.unexpected == 0)
            outcome.row(
                "herald-ingest SIGKILLed and started again (\(engine.displayName))",
                test: "ingestKilledUnderLoadLosesNothingAndRetriesMakeNoSecondNotification"
            )
        }

        @Test func aLockedDatabaseGivesClearErrorsAndRecoversByItself() async throws {
            try await Broker.purgeAll()
            let stack = try LocalStack()
            defer { stack.stop() }
            try await stack.importDirectory(sampleDirectory())
            let token = try await stack.issueToken(tenant: "a")
            try await stack.startIngest()
            let send = { (key: String?) async throws -> HTTPConnection.Response in
                let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: stack.port, group: .singleton)
                defer { Task { await connection.close() } }
                var headers = [("Authorization", "Bearer \(token)"), ("Content-Type", "application/json")]
                if let key { headers.append(("Idempotency-Key", key)) }
                return try await connection.request(
                    .POST,
                    "/v1/devices/d-phone/notifications",
                    headers: headers,
                    body: Array(#"{"title":"t","body":"b"}"#.utf8)
                )
            }

            // Another process holds SQLite's write lock for longer than the services wait (5 s).
            let lock = try WriteLock(path: stack.databasePath, seconds: 8)
            let refused = try await send("locked-1")
            #expect(refused.status == 503)
            #expect(String(buffer: refused.body).contains("store_unavailable"))
            #expect(try await Broker.admin().counts(queue: Topology.requests).messages == 0, "nothing half-accepted")
            await lock.wait()

            let accepted = try await send("locked-1")
            #expect(accepted.status == 202, "the same key works once the lock is gone")
            let id = try #require(try JSONDecoder().decode([String: String].self, from: Data(accepted.body.readableBytesView))["id"])

            // The dispatcher meets the lock too: it retries with backoff and delivers once it is gone.
            let again = try WriteLock(path: stack.databasePath, seconds: 8)
            try stack.startDispatcher()
            await again.wait()
            let database = try HeraldDatabase(path: stack.databasePath)
            #expect(await dispatched(id, in: database, timeout: .seconds(60)))
            let envelopes = try await Broker.collect([Topology.pushIOS], count: 1)
            #expect(envelopes.compactMap(\.messageId) == [EnvelopeBuilder.envelopeId(notificationId: id, deviceId: "d-phone")])
            #expect(try await Broker.admin().counts(queue: Topology.dead).messages == 0)
            reliabilityRow(
                "SQLite write lock held 8 s (beyond the 5 s busy timeout), twice",
                load: "single sends; ingest then dispatcher blocked",
                accepted: 1,
                lost: 0,
                duplicates: envelopes.count - 1,
                test: "aLockedDatabaseGivesClearErrorsAndRecoversByItself"
            )
        }

        @Test(.enabled(if: SmallDisk.canMount, "mounting a small tmpfs needs CAP_SYS_ADMIN"))
        func aFullDiskGivesClearErrorsLosesNothingAndRecoversByItself() async throws {
            try await Broker.purgeAll()
            let disk = try SmallDisk(megabytes: 32)
            defer { disk.unmount() }
            let stack = try LocalStack(extra: ["HERALD_DB_PATH": disk.path + "/herald.sqlite"])
            defer { stack.stop() }
            let shape = ["--tenants", "6", "--users", "40", "--groups", "6", "--tenant-prefix", "diskfull-"]
            #expect(try await stack.tool("herald-load", ["seed"] + shape).status == 0)
            try await stack.startIngest()
            let load = try stack.launch("herald-load", faultLoad(shape, seconds: 25))
            #expect(
                await eventually(timeout: .seconds(30)) { (try? await Broker.admin().counts(queue: Topology.requests).messages) ?? 0 >= 40 }
            )

            // The disk fills up with requests waiting on the queue, then a dispatcher starts. The disk
            // stays full longer than five retries with backoff would last, so a request counted against
            // the delivery limit would be dead-lettered meanwhile.
            try disk.fill()
            let dispatcher = try stack.startDispatcher()
            #expect(
                await eventually(timeout: .seconds(30)) { dispatcher.log.contains("store unavailable") },
                "the dispatcher meets the full disk"
            )
            try await Task.sleep(for: .seconds(15))
            #expect(await stack.readiness() == 200, "reads still work, so ingest stays ready")
            disk.free()

            let (_, output) = await load.finish()
            let outcome = try LoadRunOutcome(output)
            #expect(outcome.accepted > 200)
            #expect(outcome.retries > 0, "ingest refused some sends while it could not record their keys")
            #expect(outcome.errors.keys.allSatisfy { $0 == "503" }, "no answer but 202 and 503: \(outcome.errors)")
            #expect(outcome.envelopes.lost == 0, "every 202 got its envelopes")
            #expect(outcome.envelopes.unexpected == 0)
            #expect(outcome.envelopes.wrongQueue == 0)
            #expect(try await Broker.admin().counts(queue: Topology.dead).messages == 0, "nothing dead-lettered for a full disk")
            outcome.row(
                "disk holding the database full for 15 s, then freed",
                test: "aFullDiskGivesClearErrorsLosesNothingAndRecoversByItself"
            )
        }
    }
}
