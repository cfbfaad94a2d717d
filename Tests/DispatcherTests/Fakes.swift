import DispatcherApp
import Foundation
import HeraldCore
import Logging
import ServiceLifecycle
import Store
import Synchronization

@testable import AMQP

/// A queue that treats a consumer the way RabbitMQ 4.3's quorum queues do: `basic.reject` with
/// requeue redelivers and counts toward the delivery limit (`x-delivery-count`); `basic.nack`
/// (giving a delivery back) redelivers without counting. For unit tests of the dispatcher's
/// logic; delivery itself is tested against the real broker.
final class FakeQueue: RequestSource {
    struct Record {
        var acked: [String] = []
        var rejected: [String] = []
        var givenBack: [String] = []
        var stopped = false
    }

    let deliveries: AsyncStream<Delivery>
    private let continuation: AsyncStream<Delivery>.Continuation
    private let state = Mutex(Record())
    private let nextTag = Atomic<UInt64>(1)
    /// The generation of the "connection" open now; deliveries of another are stale.
    let generation = Atomic<UInt64>(1)
    /// Whether a returned delivery comes back.
    let redeliver: Bool
    /// Whether the "broker" answers on the connection: while false its link is silent (nothing
    /// heard for an hour) although the connection has not been counted lost yet.
    let answers = Atomic<Bool>(true)
    /// Pings asked so far.
    let pings = Atomic<Int>(0)

    init(redeliver: Bool = true) {
        (deliveries, continuation) = AsyncStream.makeStream()
        self.redeliver = redeliver
    }

    var record: Record { state.withLock { $0 } }
    var isConnected: Bool { true }
    func start() {}
    func shutdown() { continuation.finish() }

    /// Puts a request on the queue.
    func deliver(_ request: NotificationRequest, deliveryCount: Int = 0, generation: UInt64? = nil) throws {
        deliver(body: Array(try request.encoded()), messageId: request.id, deliveryCount: deliveryCount, generation: generation)
    }

    func deliver(body: [UInt8], messageId: String, deliveryCount: Int, generation: UInt64? = nil) {
        let headers: [String: AMQPHeaderValue] = deliveryCount > 0 ? ["x-delivery-count": .int(Int64(deliveryCount))] : [:]
        continuation.yield(
            Delivery(
                deliveryTag: nextTag.add(1, ordering: .relaxed).oldValue,
                generation: generation ?? self.generation.load(ordering: .relaxed),
                redelivered: deliveryCount > 0,
                exchange: "",
                routingKey: Topology.requests,
                messageId: messageId,
                headers: headers,
                body: body,
                persistent: true
            )
        )
    }

    func isCurrent(_ delivery: Delivery) -> Bool { delivery.generation == generation.load(ordering: .relaxed) }

    func silence(of delivery: Delivery) -> Duration? {
        guard isCurrent(delivery) else { return nil }
        return answers.load(ordering: .relaxed) ? .zero : .seconds(3600)
    }

    func ping() { pings.add(1, ordering: .relaxed) }

    func ack(_ delivery: Delivery) { state.withLock { $0.acked.append(delivery.messageId ?? "") } }

    func reject(_ delivery: Delivery, requeue: Bool) {
        state.withLock { $0.rejected.append(delivery.messageId ?? "") }
        if requeue, redeliver {
            deliver(body: delivery.body, messageId: delivery.messageId ?? "", deliveryCount: delivery.deliveryCount + 1)
        }
    }

    func giveBack(_ delivery: Delivery) {
        state.withLock { $0.givenBack.append(delivery.messageId ?? "") }
        // RabbitMQ 4.3 does not count a nack toward the delivery limit.
        if redeliver, !record.stopped {
            deliver(body: delivery.body, messageId: delivery.messageId ?? "", deliveryCount: delivery.deliveryCount)
        }
    }

    func stopDeliveries() {
        state.withLock { $0.stopped = true }
        continuation.finish()
    }
}

/// A sink that keeps what it is given; it can refuse envelopes, or hold publishes at a gate.
final class FakeSink: DispatchPublisher {
    private let published = Mutex<[OutgoingMessage]>([])
    private let refuseEnvelopes: Bool
    /// While closed, publishes wait.
    let gateOpen = Atomic<Bool>(true)
    /// While set, the "broker" holds publishes back (a resource alarm): each fails with `.blocked`.
    let holdingBack = Atomic<Bool>(false)
    /// Publishes refused because of that so far.
    let heldBackPublishes = Atomic<Int>(0)
    /// Calls of `publish(batch:)` so far, counted as they arrive (before the gate).
    let calls = Atomic<Int>(0)
    /// Failures the next publishes meet, one each, in order (a broker that nacks, or loses the
    /// connection, while a cluster node restarts).
    let failures = Mutex<[AMQPError]>([])

    init(refuseEnvelopes: Bool = false) {
        self.refuseEnvelopes = refuseEnvelopes
    }

    var messages: [OutgoingMessage] { published.withLock { $0 } }
    var isConnected: Bool { true }
    var isHeldBack: Bool { holdingBack.load(ordering: .relaxed) }
    func start() {}
    func shutdown() {}
    func waitUntilConnected(timeout: Duration) async -> Bool { true }

    func publish(batch: [OutgoingMessage]) async throws {
        calls.add(1, ordering: .relaxed)
        while !gateOpen.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(5)) }
        if isHeldBack {
            heldBackPublishes.add(1, ordering: .relaxed)
            throw AMQPError.blocked(reason: "memory alarm (test)")
        }
        if let failure = failures.withLock({ $0.isEmpty ? nil : $0.removeFirst() }) { throw failure }
        // A refusal that does not pass: the push exchange routes the envelopes nowhere.
        if refuseEnvelopes, batch.contains(where: { $0.exchange == Topology.pushExchange }) {
            throw AMQPError.unroutable(replyText: "NO_ROUTE (test)")
        }
        published.withLock { $0 += batch }
    }
}

/// Stands for a store outage: while `down`, status reads fail with `StoreOutage`, which the
/// engine below calls unavailable (as a locked SQLite file or a paused PostgreSQL server is).
final class OutageStatusStore: StatusStore {
    struct StoreOutage: Error {}

    let inner: any StatusStore
    let down = Atomic<Bool>(false)
    /// Status reads refused so far.
    let refused = Atomic<Int>(0)
    /// While set, status writes fail with `StoreOutage` (reads still answer).
    let writesDown = Atomic<Bool>(false)
    /// Status writes refused so far.
    let refusedWrites = Atomic<Int>(0)

    init(_ inner: any StatusStore) { self.inner = inner }

    func status(tenantId: String, id: String) async throws -> NotificationStatus? {
        if down.load(ordering: .relaxed) {
            refused.add(1, ordering: .relaxed)
            throw StoreOutage()
        }
        return try await inner.status(tenantId: tenantId, id: id)
    }

    func recordAccepted(_ status: NotificationStatus) async throws { try await inner.recordAccepted(status) }
    func save(_ status: NotificationStatus) async throws {
        if writesDown.load(ordering: .relaxed) {
            refusedWrites.add(1, ordering: .relaxed)
            throw StoreOutage()
        }
        try await inner.save(status)
    }
    func recent(tenantId: String, limit: Int) async throws -> [NotificationStatus] {
        try await inner.recent(tenantId: tenantId, limit: limit)
    }
    func statusForOperator(id: String) async throws -> NotificationStatus? { try await inner.statusForOperator(id: id) }
    func reopenFailed(id: String) async throws -> Bool { try await inner.reopenFailed(id: id) }
    func trail(tenantId: String, since: Date, until: Date?, limit: Int) async throws -> [NotificationStatus] {
        try await inner.trail(tenantId: tenantId, since: since, until: until, limit: limit)
    }
    func prune(acceptedBefore cutoff: Date) async throws -> Int { try await inner.prune(acceptedBefore: cutoff) }
}

/// An engine that calls `OutageStatusStore.StoreOutage` unavailable, and asks `inner` otherwise.
struct OutageAwareEngine: StoreEngine {
    let inner: any StoreEngine
    func isUsable() async -> Bool { await inner.isUsable() }
    func isUnavailable(_ error: any Error) -> Bool { error is OutageStatusStore.StoreOutage || inner.isUnavailable(error) }
}
