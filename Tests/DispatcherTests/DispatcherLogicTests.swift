import AMQP
import DispatcherApp
import Foundation
import HeraldCore
import SQLiteStore
import Store
import TestSupport
import Testing

/// The dispatcher's decisions about deliveries, against a fake queue with RabbitMQ 4.3's
/// counting rules (the real broker's tests are in IntegrationTests).
@Suite(.timeLimit(.minutes(1)))
struct DispatcherLogicTests {
    func dispatcher(_ queue: FakeQueue, _ sink: FakeSink, concurrency: Int = 4) throws -> (Dispatcher, HeraldDatabase) {
        let (database, _) = try temporaryDatabase()
        return (dispatcher(queue, sink, stores: Stores(sqlite: database), concurrency: concurrency), database)
    }

    func dispatcher(_ queue: FakeQueue, _ sink: FakeSink, stores: Stores, concurrency: Int) -> Dispatcher {
        var configuration = DispatcherConfiguration(
            amqp: AMQPConfiguration(),
            membershipCacheTTL: 0,
            prefetch: 20,
            concurrency: concurrency
        )
        configuration.retryBaseDelay = .milliseconds(1)
        return Dispatcher(configuration: configuration, stores: stores, source: queue, publisher: sink, logger: quietLogger())
    }

    /// A dispatcher on the sample directory whose status store can be made unavailable.
    func dispatcherWithOutages(
        _ queue: FakeQueue,
        _ sink: FakeSink,
        concurrency: Int
    ) async throws -> (Dispatcher, HeraldDatabase, OutageStatusStore) {
        let (database, _) = try temporaryDatabase()
        try await SQLiteDirectoryWriter(database: database).importFile(sampleDirectory())
        var stores = Stores(sqlite: database)
        let statuses = OutageStatusStore(stores.statuses)
        stores.statuses = statuses
        stores.engine = OutageAwareEngine(inner: stores.engine)
        return (dispatcher(queue, sink, stores: stores, concurrency: concurrency), database, statuses)
    }

    func deviceSend(_ device: String = "d-phone") -> NotificationRequest {
        NotificationRequest(
            id: NotificationID.make(),
            tenantId: "a",
            principalId: "p-admin",
            target: .device(device),
            title: "t",
            body: "b",
            acceptedAt: Date()
        )
    }

    // MARK: Tests

    /// Ingest's status write can fail after the broker took the request: the dispatcher's record,
    /// made from the request, then carries the audit trail (who, how, what), so no send lacks it.
    @Test func theDispatchersRecordCarriesTheAuditTrailOfTheRequest() async throws {
        let queue = FakeQueue(redeliver: false)
        let sink = FakeSink()
        let (dispatcher, database) = try dispatcher(queue, sink)
        try await SQLiteDirectoryWriter(database: database).importFile(sampleDirectory())
        var request = deviceSend()
        request.route = .graph
        request.tokenId = "jti-1"
        try await running([dispatcher], logger: quietLogger()) { _ in
            try queue.deliver(request)
            #expect(await eventually(timeout: .seconds(10), every: .milliseconds(10)) { queue.record.acked.count == 1 })
        }
        let status = try #require(try await SQLiteStatusStore(database: database).status(tenantId: "a", id: request.id))
        #expect(status.status == .dispatched)
        #expect(status.initiator == NotificationStatus.Initiator(principalId: "p-admin", tokenId: "jti-1", route: .graph))
        #expect(status.targets == .device("d-phone"))
    }

    @Test func aRequestThatAlwaysFailsIsDeadLetteredWhereOnlyRejectsCount() async throws {
        let queue = FakeQueue()
        let sink = FakeSink(refuseEnvelopes: true)
        let (dispatcher, database) = try dispatcher(queue, sink)
        try await SQLiteDirectoryWriter(database: database).importFile(sampleDirectory())
        let request = deviceSend()
        let deadLettered = try await running([dispatcher], logger: quietLogger()) { _ in
            try queue.deliver(request)
            return await eventually(timeout: .seconds(10), every: .milliseconds(10)) {
                sink.messages.contains { $0.routingKey == Topology.dead }
            }
        }
        #expect(
            deadLettered,
            "dead-lettered after the delivery limit; rejected \(queue.record.rejected.count), given back \(queue.record.givenBack.count)"
        )
        #expect(queue.record.rejected.count == Topology().deliveryLimit - 1, "each failed try is a basic.reject")
        #expect(queue.record.givenBack.isEmpty)
        #expect(queue.record.acked == [request.id])
        let status = try await SQLiteStatusStore(database: database).status(tenantId: "a", id: request.id)
        #expect(status?.status == .failed)
    }

    @Test func aDeliveryOfAnEarlierConnectionIsNotWorkedOn() async throws {
        let queue = FakeQueue()
        let sink = FakeSink()
        let (dispatcher, database) = try dispatcher(queue, sink, concurrency: 1)
        try await SQLiteDirectoryWriter(database: database).importFile(sampleDirectory())
        let stale = deviceSend()
        let fresh = deviceSend()
        try await running([dispatcher], logger: quietLogger()) { _ in
            // The first came through a connection that has since dropped (the broker redelivers it).
            try queue.deliver(stale, generation: 1)
            queue.generation.store(2, ordering: .relaxed)
            try queue.deliver(fresh)
            #expect(await eventually(timeout: .seconds(10), every: .milliseconds(10)) { queue.record.acked == [fresh.id] })
        }
        #expect(!sink.messages.contains { $0.messageId == EnvelopeBuilder.envelopeId(notificationId: stale.id, deviceId: "d-phone") })
        #expect(queue.record.rejected.isEmpty, "its tag is void: nothing is said about it")
        #expect(queue.record.givenBack.isEmpty, "its tag is void: nothing is said about it")
    }

    /// A host cut off from everything: its store does not answer, so it holds the request, and its
    /// broker connection drops meanwhile, so the broker gives the request to another dispatcher.
    /// When the store answers again, the held copy is let go, not dispatched a second time.
    @Test func aHeldRequestWhoseConnectionDroppedIsLetGoWhenTheStoreReturns() async throws {
        let queue = FakeQueue(redeliver: false)
        let sink = FakeSink()
        let (dispatcher, _, statuses) = try await dispatcherWithOutages(queue, sink, concurrency: 1)
        let request = deviceSend()
        let fresh = deviceSend("d-android-gms")

        statuses.down.store(true, ordering: .relaxed)
        try await running([dispatcher], logger: quietLogger()) { _ in
            try queue.deliver(request)
            #expect(await eventually(timeout: .seconds(10), every: .milliseconds(10)) { statuses.refused.load(ordering: .relaxed) > 0 })
            queue.generation.store(2, ordering: .relaxed)  // its connection dropped while it was held
            statuses.down.store(false, ordering: .relaxed)
            // A request of the new connection shows when the dispatcher has moved on (concurrency 1:
            // it starts only once the held one is done with).
            try queue.deliver(fresh)
            #expect(await eventually(timeout: .seconds(10), every: .milliseconds(10)) { queue.record.acked.contains(fresh.id) })
        }
        let heldEnvelope = EnvelopeBuilder.envelopeId(notificationId: request.id, deviceId: "d-phone")
        #expect(!sink.messages.contains { $0.messageId == heldEnvelope }, "the held copy was dispatched after its connection dropped")
        #expect(!queue.record.acked.contains(request.id), "its tag is void: nothing is said about it")
        #expect(queue.record.rejected.isEmpty)
    }

    /// Runs one device send whose publish the broker holds back (an alarm, or a link that stopped
    /// carrying); `whileHeld` runs during the hold, `afterwards` once publishes flow again.
    private func holdBackAPublish(
        whileHeld: (FakeQueue) -> Void,
        afterwards: (FakeQueue, FakeSink, NotificationRequest) async throws -> Void
    ) async throws -> (queue: FakeQueue, sink: FakeSink, request: NotificationRequest) {
        let queue = FakeQueue(redeliver: false)
        let sink = FakeSink()
        let (dispatcher, database) = try dispatcher(queue, sink, concurrency: 1)
        try await SQLiteDirectoryWriter(database: database).importFile(sampleDirectory())
        let request = deviceSend()
        sink.gateOpen.store(false, ordering: .relaxed)
        try await running([dispatcher], logger: quietLogger()) { _ in
            try queue.deliver(request)
            // Its publish has started; the broker holds it back.
            #expect(await eventually(timeout: .seconds(10), every: .milliseconds(10)) { sink.calls.load(ordering: .relaxed) > 0 })
            sink.holdingBack.store(true, ordering: .relaxed)
            sink.gateOpen.store(true, ordering: .relaxed)
            #expect(
                await eventually(timeout: .seconds(10), every: .milliseconds(10)) { sink.heldBackPublishes.load(ordering: .relaxed) > 0 }
            )
            whileHeld(queue)
            sink.holdingBack.store(false, ordering: .relaxed)
            try await afterwards(queue, sink, request)
        }
        return (queue, sink, request)
    }

    /// Delivers a request of the connection open now and waits until it is done: the dispatcher
    /// (concurrency 1) has moved on from the one before.
    private func deliverAnotherAndWait(_ queue: FakeQueue) async throws {
        let fresh = deviceSend("d-android-gms")
        try queue.deliver(fresh)
        #expect(await eventually(timeout: .seconds(10), every: .milliseconds(10)) { queue.record.acked.contains(fresh.id) })
    }

    /// The delivery's connection drops while its publish is held back: once publishes flow again,
    /// the request is not published through the new connection; another dispatcher has it.
    @Test func aPublishHeldBackIsNotSentAgainOnceItsDeliveryWasTakenBack() async throws {
        let (queue, sink, request) = try await holdBackAPublish(
            whileHeld: { $0.generation.store(2, ordering: .relaxed) },
            afterwards: { queue, _, _ in try await deliverAnotherAndWait(queue) }
        )
        let heldEnvelope = EnvelopeBuilder.envelopeId(notificationId: request.id, deviceId: "d-phone")
        #expect(!sink.messages.contains { $0.messageId == heldEnvelope }, "the held publish went out after its delivery was taken back")
        #expect(!queue.record.acked.contains(request.id))
        #expect(queue.record.rejected.isEmpty)
    }

    /// A link that went silent: the broker took the delivery back, and this side does not know yet
    /// (its consumer waits for missed heartbeats). The link returns and the publisher reconnects
    /// first. Nothing more is published for the request until the consumer's connection answers;
    /// here it never does, and is counted lost.
    @Test func aPublishHeldBackWaitsForTheDeliverysConnectionToAnswerBeforeItIsSentAgain() async throws {
        let (queue, sink, request) = try await holdBackAPublish(
            whileHeld: { $0.answers.store(false, ordering: .relaxed) },
            afterwards: { queue, sink, _ in
                // Publishes flow again, the delivery still looks current, but its connection is silent.
                #expect(await eventually(timeout: .seconds(10), every: .milliseconds(10)) { queue.pings.load(ordering: .relaxed) > 0 })
                try await Task.sleep(for: .milliseconds(500))
                #expect(sink.messages.count == 0, "the held publish went out while the delivery's connection was silent")
                queue.generation.store(2, ordering: .relaxed)  // the consumer counts it lost at last
                try await deliverAnotherAndWait(queue)
            }
        )
        let heldEnvelope = EnvelopeBuilder.envelopeId(notificationId: request.id, deviceId: "d-phone")
        #expect(!sink.messages.contains { $0.messageId == heldEnvelope }, "the held publish went out after its delivery was taken back")
        #expect(!queue.record.acked.contains(request.id))
    }

    /// The same hold with a connection that answers (a broker alarm: only publishing stopped):
    /// the publish goes out once the alarm clears, and the request is done.
    @Test func aPublishHeldBackIsSentOnceTheAlarmClearsWhenTheDeliverysConnectionAnswers() async throws {
        let (_, sink, request) = try await holdBackAPublish(
            whileHeld: { _ in },
            afterwards: { queue, _, request in
                #expect(await eventually(timeout: .seconds(10), every: .milliseconds(10)) { queue.record.acked.contains(request.id) })
            }
        )
        let envelope = EnvelopeBuilder.envelopeId(notificationId: request.id, deviceId: "d-phone")
        #expect(sink.messages.filter { $0.messageId == envelope }.count == 1)
    }

    /// Two copies of one request on the queue at once: a publish ingest answered 503 for (not
    /// confirmed in time, while a cluster elected a new queue leader) that landed after all, and
    /// the caller's retry with the same `Idempotency-Key`, which carries the same notification id.
    /// One dispatcher takes both at once; the envelopes go out once.
    @Test func twoCopiesOfOneRequestAtOnceAreDispatchedOnce() async throws {
        let queue = FakeQueue(redeliver: false)
        let sink = FakeSink()
        sink.gateOpen.store(false, ordering: .relaxed)
        let (dispatcher, database) = try dispatcher(queue, sink, concurrency: 4)
        try await SQLiteDirectoryWriter(database: database).importFile(sampleDirectory())
        let request = deviceSend()
        try await running([dispatcher], logger: quietLogger()) { _ in
            try queue.deliver(request)
            try queue.deliver(request)
            // Both copies are taken before either publish is confirmed.
            try await Task.sleep(for: .milliseconds(200))
            sink.gateOpen.store(true, ordering: .relaxed)
            #expect(await eventually(timeout: .seconds(10), every: .milliseconds(10)) { queue.record.acked.count == 2 })
        }
        let envelope = EnvelopeBuilder.envelopeId(notificationId: request.id, deviceId: "d-phone")
        #expect(sink.messages.filter { $0.messageId == envelope }.count == 1, "the envelope was published once per copy")
        #expect(queue.record.acked == [request.id, request.id])
    }

    /// While a cluster node restarts, the broker nacks envelopes (their queue has no leader for a
    /// moment) and connections drop. A request meets that more often than its delivery limit: it is
    /// sent once the broker takes envelopes again, not dead-lettered and failed after a 202.
    @Test(arguments: [AMQPError.nacked, .connectionLost, .notConnected, .confirmTimeout])
    func envelopesTheBrokerRefusesForAWhileAreSentWithoutUsingUpAttempts(_ failure: AMQPError) async throws {
        let queue = FakeQueue()
        let sink = FakeSink()
        sink.failures.withLock { $0 = Array(repeating: failure, count: 2 * Topology().deliveryLimit) }
        let (dispatcher, database) = try dispatcher(queue, sink)
        try await SQLiteDirectoryWriter(database: database).importFile(sampleDirectory())
        let request = deviceSend()
        try await running([dispatcher], logger: quietLogger()) { _ in
            try queue.deliver(request)
            #expect(await eventually(timeout: .seconds(30), every: .milliseconds(10)) { queue.record.acked == [request.id] })
        }
        let envelope = EnvelopeBuilder.envelopeId(notificationId: request.id, deviceId: "d-phone")
        #expect(sink.messages.map(\.messageId) == [envelope], "the envelope went out once, nothing was dead-lettered")
        #expect(queue.record.rejected.isEmpty, "no attempt was used up")
        #expect(try await SQLiteStatusStore(database: database).status(tenantId: "a", id: request.id)?.status == .dispatched)
    }

    /// Device sends go to the broker together; when the status write after their confirmed publish
    /// fails (the store unavailable), only that write is tried again until the store answers: no
    /// envelope is published a second time, and each delivery is acked once, after the write.
    @Test func aStatusWriteThatFailsAfterTheEnvelopesAreOutIsTriedAgainAloneNotTheSend() async throws {
        let queue = FakeQueue(redeliver: false)
        let sink = FakeSink()
        let (dispatcher, database, statuses) = try await dispatcherWithOutages(queue, sink, concurrency: 4)
        let requests = [deviceSend("d-phone"), deviceSend("d-android-gms"), deviceSend("d-phone")]

        statuses.writesDown.store(true, ordering: .relaxed)
        try await running([dispatcher], logger: quietLogger()) { _ in
            for request in requests { try queue.deliver(request) }
            #expect(await eventually(timeout: .seconds(10), every: .milliseconds(10)) { sink.messages.count == requests.count })
            // The write is refused, and tried again (at least once more after a pause).
            #expect(
                await eventually(timeout: .seconds(10), every: .milliseconds(10)) {
                    statuses.refusedWrites.load(ordering: .relaxed) >= 2 * requests.count
                }
            )
            #expect(queue.record.acked.isEmpty, "acked before its status was written")
            statuses.writesDown.store(false, ordering: .relaxed)
            #expect(await eventually(timeout: .seconds(10), every: .milliseconds(10)) { queue.record.acked.count == requests.count })
        }
        for (request, device) in zip(requests, ["d-phone", "d-android-gms", "d-phone"]) {
            let envelope = EnvelopeBuilder.envelopeId(notificationId: request.id, deviceId: device)
            #expect(sink.messages.filter { $0.messageId == envelope }.count == 1, "published again while only the status write was due")
            let status = try await SQLiteStatusStore(database: database).status(tenantId: "a", id: request.id)
            #expect(status?.status == .dispatched)
        }
        #expect(Set(queue.record.acked) == Set(requests.map(\.id)))
        #expect(queue.record.rejected.isEmpty && queue.record.givenBack.isEmpty)
    }

    @Test func drainingHandsBackWhatWasNotStarted() async throws {
        let queue = FakeQueue(redeliver: false)
        let sink = FakeSink()
        sink.gateOpen.store(false, ordering: .relaxed)
        let (dispatcher, database) = try dispatcher(queue, sink, concurrency: 1)
        try await SQLiteDirectoryWriter(database: database).importFile(sampleDirectory())
        let requests = (0..<10).map { _ in deviceSend() }
        try await running([dispatcher], logger: quietLogger()) { group in
            for request in requests { try queue.deliver(request) }
            // The first is in progress (its publish waits at the gate); nine wait in the buffer.
            // Waited for, not slept on: a worker that starts late under load has started nothing,
            // and draining rightly hands back everything.
            #expect(await eventually(timeout: .seconds(10), every: .milliseconds(5)) { sink.calls.load(ordering: .relaxed) > 0 })
            Task {
                try await Task.sleep(for: .milliseconds(200))
                sink.gateOpen.store(true, ordering: .relaxed)
            }
            await group.triggerGracefulShutdown()
        }
        #expect(queue.record.acked == [requests[0].id], "the one in progress finishes")
        #expect(Set(queue.record.givenBack) == Set(requests.dropFirst().map(\.id)), "the rest go back unprocessed")
        #expect(sink.messages.count == 1)
    }
}
