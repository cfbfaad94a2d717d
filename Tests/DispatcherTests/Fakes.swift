import DispatcherApp
import Foundation
import HeraldCore
import Logging
import ServiceLifecycle
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

    init(refuseEnvelopes: Bool = false) {
        self.refuseEnvelopes = refuseEnvelopes
    }

    var messages: [OutgoingMessage] { published.withLock { $0 } }
    var isConnected: Bool { true }
    var isHeldBack: Bool { false }
    func start() {}
    func shutdown() {}
    func waitUntilConnected(timeout: Duration) async -> Bool { true }

    func publish(batch: [OutgoingMessage]) async throws {
        while !gateOpen.load(ordering: .relaxed) { try await Task.sleep(for: .milliseconds(5)) }
        if refuseEnvelopes, batch.contains(where: { $0.exchange == Topology.pushExchange }) { throw AMQPError.nacked }
        published.withLock { $0 += batch }
    }
}
