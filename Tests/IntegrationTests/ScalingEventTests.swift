import AMQP
import DispatcherApp
import Foundation
import HeraldCore
import SQLiteStore
import Store
import Synchronization
import TestSupport
import Testing

extension BrokerTests {
    @Suite struct ScalingEventTests {
        // MARK: A held request never re-sends what was confirmed

        /// Every one of `users` devices got exactly one envelope; a row of RELIABILITY.md says so.
        private func expectEveryDeviceOnce(_ copies: [String: Int], users: Int, fault: String, test: String) {
            #expect(copies.count == users, "every device got its envelope")
            let repeated = copies.values.filter { $0 > 1 }.count
            #expect(repeated == 0, "\(repeated) devices got their envelope more than once")
            reliabilityRow(
                fault,
                load: "one send to a \(users.formatted())-user nested group",
                accepted: 1,
                lost: users - copies.count,
                duplicates: copies.values.reduce(0) { $0 + $1 - 1 },
                test: test
            )
        }

        /// An empty broker, a fresh database holding `bigDirectory(users:)` (and its path), a tally
        /// of the push queues, and one send to the group of them all waiting on `herald.requests`.
        private func groupSendQueued(users: Int) async throws -> (HeraldDatabase, String, EnvelopeTally, NotificationRequest) {
            try await Broker.purgeAll()
            let (database, path) = try temporaryDatabase()
            try await SQLiteDirectoryWriter(database: database).importFile(bigDirectory(users: users))
            let tally = try EnvelopeTally()
            let request = groupSend(["all"])
            try await enqueue([request])
            return (database, path, tally, request)
        }

        @Test func aStoreLockedAfterTheFanOutTriesOnlyTheStatusWriteAgain() async throws {
            let users = 3000
            let (database, path, tally, request) = try await groupSendQueued(users: users)
            defer { tally.stop() }
            // Another connection takes SQLite's write lock for 10 s just before the status write.
            let statuses = LockingStatusStore(database: database, path: path, lockingBefore: .dispatched, seconds: 10)
            var stores = Stores(sqlite: database)
            stores.statuses = statuses

            let copies = try await withDispatcher(stores: stores, configuration: try dispatcherConfiguration()) {
                #expect(await dispatched(request.id, in: database, timeout: .seconds(90)))
                return await tally.copies(atLeast: users)
            }
            #expect(statuses.lock != nil, "the status write met the lock")
            expectEveryDeviceOnce(
                copies,
                users: users,
                fault: "SQLite write lock held 10 s from just before the status write of a fan-out",
                test: "aStoreLockedAfterTheFanOutTriesOnlyTheStatusWriteAgain"
            )
        }

        @Test func aStoreUnavailableMidFanOutIsWaitedOutAndNothingConfirmedIsSentAgain() async throws {
            let users = 3000
            let (database, _, tally, request) = try await groupSendQueued(users: users)
            defer { tally.stop() }
            // Two pages of 500 users are read, then device reads fail as a locked store's do.
            let directory = SlowDirectoryStore(SQLiteDirectoryStore(database: database), delay: .zero, readsBeforeOutage: 2)
            directory.isSlow.store(false, ordering: .relaxed)
            directory.isDown.store(true, ordering: .relaxed)
            var stores = Stores(sqlite: database)
            stores.directory = directory

            let copies = try await withDispatcher(stores: stores, configuration: try dispatcherConfiguration()) {
                #expect(await eventually(timeout: .seconds(30)) { directory.refused.load(ordering: .relaxed) >= 3 }, "the outage began")
                #expect(tally.distinct > 0, "envelopes of the first pages went out before it")
                directory.isDown.store(false, ordering: .relaxed)
                #expect(await dispatched(request.id, in: database, timeout: .seconds(90)))
                return await tally.copies(atLeast: users)
            }
            expectEveryDeviceOnce(
                copies,
                users: users,
                fault: "store unavailable (device reads refused) mid fan-out, after 2 of 6 pages, for about 3 s",
                test: "aStoreUnavailableMidFanOutIsWaitedOutAndNothingConfirmedIsSentAgain"
            )
        }

        @Test func aStoreLockedAfterADeferralQueuesOneDelayedCopy() async throws {
            try await Broker.purgeAll()
            let (database, path) = try temporaryDatabase()
            try await SQLiteDirectoryWriter(database: database).importFile(sampleDirectory())
            let statuses = LockingStatusStore(database: database, path: path, lockingBefore: .deferred, seconds: 10)
            var stores = Stores(sqlite: database)
            stores.statuses = statuses
            // One send per device and hour: the second send to d-phone waits in a delay queue.
            let first = NotificationRequest(
                id: NotificationID.make(),
                tenantId: "a",
                principalId: "p-admin",
                target: .device("d-phone"),
                title: "t",
                body: "b",
                acceptedAt: Date()
            )
            let second = NotificationRequest(
                id: NotificationID.make(),
                tenantId: "a",
                principalId: "p-admin",
                target: .device("d-phone"),
                title: "t",
                body: "b",
                acceptedAt: Date()
            )
            try await enqueue([first, second])

            var configuration = try dispatcherConfiguration(deviceSends: 1)
            configuration.concurrency = 1  // the first is dispatched before the second is looked at
            try await withDispatcher(stores: stores, configuration: configuration) {
                let reader = SQLiteStatusStore(database: database)
                // The deferred status is written once the lock is gone; whatever was published for it is out by then.
                #expect(
                    await eventually(timeout: .seconds(60)) {
                        (try? await reader.status(tenantId: "a", id: second.id))?.status == .deferred
                    }
                )
            }
            #expect(statuses.lock != nil, "the status write met the lock")
            var delayed = 0
            for queue in Topology().delayQueues { delayed += try await Broker.admin().counts(queue: queue).messages }
            #expect(delayed == 1, "one delayed copy, not one per try")
        }

        // MARK: A broker that blocks publishers

        @Test func aBrokerAlarmRefusesSendsAtOnceAndReadinessFollowsIt() async throws {
            try await Broker.purgeAll()
            try await withIngest { harness, _ in
                let token = try await harness.token()
                try await harness.run { client in
                    #expect(try await client.send(.get, "/health/ready").status == 200)
                    try await Broker.duringMemoryAlarm {
                        let unready = await eventually(timeout: .seconds(15)) {
                            (try? await client.send(.get, "/health/ready").status) == 503
                        }
                        #expect(unready, "readiness turns 503 while the broker blocks publishing, before any send")
                        for _ in 0..<3 {
                            let refused = try await client.send(
                                .post,
                                "/v1/devices/d-phone/notifications",
                                token: token,
                                body: #"{"title":"t","body":"b"}"#
                            )
                            #expect(refused.status == 503)
                            #expect(refused.headers["Retry-After"] == "1")
                            // Refused before it was sent, not timed out waiting for a confirm.
                            #expect(refused.field("type") == "urn:herald:problem:broker_unavailable", "\(refused.text)")
                        }
                    }
                    #expect(await eventually(timeout: .seconds(20)) { (try? await client.send(.get, "/health/ready").status) == 200 })
                    let accepted = try await client.send(
                        .post,
                        "/v1/devices/d-phone/notifications",
                        token: token,
                        body: #"{"title":"t","body":"b"}"#
                    )
                    #expect(accepted.status == 202, "sends resume by themselves when the alarm clears")
                }
            }
            let messages = try await Broker.collect([Topology.requests], count: 10, timeout: .seconds(2))
            #expect(messages.count == 1, "nothing refused reached the queue")
            reliabilityRow(
                "broker memory alarm (ingest)",
                load: "3 sends during the alarm, 1 after",
                accepted: messages.count,
                lost: 0,
                duplicates: 0,
                test: "aBrokerAlarmRefusesSendsAtOnceAndReadinessFollowsIt"
            )
        }

        /// A queue that refuses every message while the connection looks healthy (a quorum queue
        /// without a leader does; here a `max-length` of 0 with `reject-publish`): each send is
        /// refused with 503, and readiness says so as long as the refusals go on. Once the queue
        /// takes messages again RabbitMQ 3.10 keeps refusing them on the same channel (seen for
        /// 30 s and more, also on a cluster regaining its majority); ingest opens its connection
        /// again after 5 s of refusals, and sends are accepted.
        @Test func aQueueThatRefusesMessagesMakesIngestNotReadyWhileItDoes() async throws {
            try await Broker.purgeAll()
            try await withIngest { harness, _ in
                let token = try await harness.token()
                try await harness.run { client in
                    func send() async throws -> HTTPAnswer {
                        try await client.send(.post, "/v1/devices/d-phone/notifications", token: token, body: #"{"title":"t","body":"b"}"#)
                    }
                    #expect(try await client.send(.get, "/health/ready").status == 200)
                    try Broker.script(
                        "ctl",
                        ["set_policy", "--apply-to", "queues", "herald-test-refuse", "^herald\\.requests$", #"{"max-length":0}"#]
                    )
                    var refused: HTTPAnswer?
                    let wasRefused = await eventually(timeout: .seconds(15)) {
                        refused = try? await send()
                        return refused?.status == 503
                    }
                    let readiness = try await client.send(.get, "/health/ready").status
                    try Broker.script("ctl", ["clear_policy", "herald-test-refuse"])
                    #expect(wasRefused, "the broker refuses the send: \(refused?.text ?? "")")
                    #expect(refused?.field("type") == "urn:herald:problem:broker_unavailable")
                    #expect(readiness == 503, "readiness turns 503 while the broker refuses messages")
                    var again: HTTPAnswer?
                    #expect(
                        await eventually(timeout: .seconds(30)) {
                            again = try? await send()
                            return again?.status == 202
                        },
                        "sends are accepted again once the queue takes messages: \(again?.text ?? "")"
                    )
                    #expect(try await client.send(.get, "/health/ready").status == 200)
                }
            }
        }

        @Test func aPublishGetsItsAnswerByItsDeadlineEvenWhenTheBrokerStopsReading() async throws {
            let queue = "herald.test.frozen"
            let admin = try Broker.admin()
            try await admin.declareQuorumQueue(queue)
            let publisher = try AMQPPublisher(
                configuration: try Broker.configuration(),
                topology: nil,
                confirmTimeout: .seconds(1),
                name: "test-frozen",
                logger: quietLogger()
            )
            publisher.start()
            defer { publisher.shutdown() }
            #expect(await publisher.waitUntilConnected(timeout: .seconds(10)))

            // A hung broker: it reads nothing, so once the socket's buffers are full the connection's
            // thread is stuck inside the write of this 32 MiB batch.
            let node = try Broker.nodePid()
            kill(node, SIGSTOP)
            let outcome = Mutex<AMQPError??>(nil)
            let batch = (0..<32).map {
                OutgoingMessage(routingKey: queue, body: [UInt8](repeating: 0x61, count: 1 << 20), messageId: "big-\($0)")
            }
            let task = Task {
                do {
                    try await publisher.publish(batch: batch)
                    outcome.withLock { $0 = .some(nil) }
                } catch {
                    outcome.withLock { $0 = .some(error as? AMQPError) }
                }
            }
            let answered = await eventually(timeout: .seconds(10)) { outcome.withLock { $0 } != nil }
            let stuckStillRefuses: Bool
            if answered {
                // The thread is still stuck: a new publish is refused at once, as not sent.
                do {
                    try await publisher.publish(OutgoingMessage(routingKey: queue, body: [1], messageId: "small"))
                    stuckStillRefuses = false
                } catch {
                    stuckStillRefuses = (error as? AMQPError) == .stalled
                }
            } else {
                stuckStillRefuses = false
            }
            let readyWhileStuck = publisher.canPublish
            kill(node, SIGCONT)
            _ = await task.value
            #expect(answered, "the publish got its answer by its deadline")
            #expect(
                outcome.withLock { $0 } == .some(.confirmTimeout),
                "written, so it may have reached the broker: \(String(describing: outcome.withLock { $0 }))"
            )
            #expect(stuckStillRefuses, "a publish handed over while the thread is stuck is refused at once")
            #expect(!readyWhileStuck, "readiness follows a stuck connection")
            #expect(await eventually(timeout: .seconds(30)) { publisher.canPublish }, "it recovers once the broker reads again")
            try await admin.delete(queue: queue)
            reliabilityRow(
                "broker frozen (SIGSTOP) with a 32 MiB batch being written",
                load: "one publish, confirm timeout 1 s",
                accepted: 0,
                lost: 0,
                duplicates: 0,
                test: "aPublishGetsItsAnswerByItsDeadlineEvenWhenTheBrokerStopsReading"
            )
        }

        @Test func aBrokerAlarmPausesTheDispatcherWithoutUsingUpAttempts() async throws {
            try await Broker.purgeAll()
            let (database, _) = try temporaryDatabase()
            try await SQLiteDirectoryWriter(database: database).importFile(sampleDirectory())
            let requests = (0..<3).map { _ in groupSend(["g-top"], tenant: "a") }
            try await enqueue(requests)
            let log = RecordingLogHandler.Lines()
            let tally = try EnvelopeTally()
            defer { tally.stop() }

            // The dispatcher starts while the broker blocks publishing, with the requests waiting.
            try await Broker.duringMemoryAlarm {
                try await withDispatcher(
                    stores: Stores(sqlite: database),
                    configuration: try dispatcherConfiguration(),
                    logger: RecordingLogHandler.logger(log)
                ) {
                    // Longer than the dispatcher's 10 s confirm timeout.
                    try await Task.sleep(for: .seconds(13))
                    let statuses = SQLiteStatusStore(database: database)
                    for request in requests { #expect(try await statuses.status(tenantId: "a", id: request.id)?.status != .dispatched) }
                    try Broker.memoryAlarm(false)
                    for request in requests { #expect(await dispatched(request.id, in: database, timeout: .seconds(60))) }
                }
            }
            let copies = await tally.copies(atLeast: 2 * requests.count)
            #expect(copies.count == 2 * requests.count)
            #expect(copies.values.allSatisfy { $0 == 1 })
            #expect(log.count("it will be retried") == 0, "an alarm uses up no delivery attempt: \(log.all.suffix(5))")
            #expect(log.count("taking no new requests") >= 1, "the dispatcher said it paused")
            #expect(try await Broker.admin().counts(queue: Topology.dead).messages == 0)
            reliabilityRow(
                "broker memory alarm for 13 s (dispatcher started during it)",
                load: "3 group sends waiting",
                accepted: requests.count,
                lost: 2 * requests.count - copies.count,
                duplicates: copies.values.reduce(0) { $0 + $1 - 1 },
                test: "aBrokerAlarmPausesTheDispatcherWithoutUsingUpAttempts"
            )
        }

        // MARK: Scale-down and reconnects

        @Test func sigtermHandsBackWhatWasNotStartedAndFinishesTheRest() async throws {
            try await Broker.purgeAll()
            let concurrency = 2
            let stack = try LocalStack(extra: [
                "HERALD_PREFETCH": "50", "HERALD_DISPATCH_CONCURRENCY": String(concurrency), "HERALD_SHUTDOWN_TIMEOUT": "60",
                "HERALD_GROUP_SENDS_PER_HOUR": "100",
            ])
            defer { stack.stop() }
            let users = 500
            try await stack.importDirectory(bigDirectory(users: users))
            let requests = (0..<50).map { _ in groupSend(["all"]) }
            let tally = try EnvelopeTally()
            defer { tally.stop() }
            try await enqueue(requests)

            let first = try stack.startDispatcher()
            #expect(await eventually(timeout: .seconds(60)) { first.log.contains("notification dispatched") })
            first.sigterm()
            #expect(await first.exitStatus(within: .seconds(60)) == 0, "exits within the shutdown timeout")
            let log = first.log
            #expect(log.contains("dispatcher draining"))
            let afterDrain = log.components(separatedBy: "dispatcher draining").dropFirst().joined()
            let finishedAfterSigterm = afterDrain.components(separatedBy: "notification dispatched").count - 1
            #expect(finishedAfterSigterm <= concurrency, "only the requests in progress finish after SIGTERM, not \(finishedAfterSigterm)")
            #expect(log.contains("handed back deliveries not started"))

            try stack.startDispatcher()
            let copies = await tally.copies(atLeast: requests.count * users)
            #expect(copies.count == requests.count * users, "every notification's envelopes arrive")
            #expect(copies.values.allSatisfy { $0 == 1 }, "each once")
            let database = try HeraldDatabase(path: stack.databasePath)
            for request in requests { #expect(await dispatched(request.id, in: database)) }
            reliabilityRow(
                "SIGTERM to a dispatcher holding 50 prefetched group sends, another started",
                load: "50 sends to a 500-user group",
                accepted: requests.count,
                lost: requests.count * users - copies.count,
                duplicates: copies.values.reduce(0) { $0 + $1 - 1 },
                test: "sigtermHandsBackWhatWasNotStartedAndFinishesTheRest"
            )
        }

        @Test func deliveriesOfADroppedConnectionAreNotWorkedOnAgain() async throws {
            try await Broker.purgeAll()
            let users = 600
            let (database, _) = try temporaryDatabase()
            try await SQLiteDirectoryWriter(database: database).importFile(bigDirectory(users: users))
            // The first dispatcher works on one request at a time, slowly until its connection is cut,
            // so a backlog waits in its buffer then; the second starts all it gets at once and stays
            // slow, so it is still at work on them when the first would reach them.
            let first = SlowDirectoryStore(SQLiteDirectoryStore(database: database), delay: .milliseconds(150))
            let second = SlowDirectoryStore(SQLiteDirectoryStore(database: database), delay: .seconds(1))
            var one = try dispatcherConfiguration(groupSends: 100)
            one.prefetch = 50
            one.concurrency = 1
            var many = one
            many.concurrency = 50
            func stores(_ directory: SlowDirectoryStore) -> Stores {
                var stores = Stores(sqlite: database)
                stores.directory = directory
                return stores
            }
            let requests = (0..<30).map { _ in groupSend(["all"]) }
            let tally = try EnvelopeTally()
            defer { tally.stop() }
            try await enqueue(requests)

            let copies = try await withDispatcher(stores: stores(first), configuration: one) {
                #expect(
                    await eventually { (try? await Broker.admin().counts(queue: Topology.requests).messages) == 0 },
                    "the first holds the backlog"
                )
                let held = try Broker.connectionsConsuming(Topology.requests)
                #expect(held.count == 1)
                return try await withDispatcher(stores: stores(second), configuration: many) {
                    #expect(await eventually { ((try? Broker.connectionsConsuming(Topology.requests))?.count ?? 0) == 2 })
                    // Cut the first one's consuming connection: the broker hands its backlog to the second.
                    for connection in held { try Broker.closeConnection(connection) }
                    first.isSlow.store(false, ordering: .relaxed)
                    for request in requests { #expect(await dispatched(request.id, in: database, timeout: .seconds(90))) }
                    return await tally.copies(atLeast: requests.count * users)
                }
            }
            #expect(copies.count == requests.count * users)
            let repeated = requests.filter { request in
                (0..<users).contains { copies[EnvelopeBuilder.envelopeId(notificationId: request.id, deviceId: "i\($0)"), default: 0] > 1 }
            }
            // The one in progress when the connection dropped may be done by both; none of the backlog.
            #expect(repeated.count <= 1, "\(repeated.count) notifications were fanned out twice")
            reliabilityRow(
                "consumer connection closed by the broker with a backlog prefetched, a second dispatcher running",
                load: "30 sends to a 600-user group",
                accepted: requests.count,
                lost: requests.count * users - copies.count,
                duplicates: copies.values.reduce(0) { $0 + $1 - 1 },
                test: "deliveriesOfADroppedConnectionAreNotWorkedOnAgain"
            )
        }
    }
}
