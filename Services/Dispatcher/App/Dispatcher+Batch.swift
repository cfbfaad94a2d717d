import AMQP
import Foundation
import HeraldCore

/// Device sends in batches: the deliveries that wait while a batch is worked on go together in the
/// next (at most `concurrency` of them), so a batch grows with the load and costs no latency
/// when there is none. See `RequestProcessor.process(batch:)`.
extension Dispatcher {
    /// The delivery as a device send; nil for anything else (a group send, a body that does not
    /// decode), which is worked on alone.
    static func deviceSend(_ delivery: Delivery) -> DeviceSend? {
        guard let request = try? NotificationRequest.decode(Data(delivery.body)), case .device(let deviceId) = request.target else {
            return nil
        }
        return DeviceSend(delivery: delivery, request: request, deviceId: deviceId)
    }

    /// Queues `send` for the batch worker; true when none runs, and the caller must start one.
    func enqueue(_ send: DeviceSend) -> Bool {
        queued.withLock { queued in
            queued.sends.append(send)
            guard !queued.working else { return false }
            queued.working = true
            return true
        }
    }

    /// The batch worker: takes what is queued, works on it, and again, until nothing is queued.
    /// While draining, what is queued is handed back, not started.
    func runBatches() async {
        while true {
            let batch: [DeviceSend] = queued.withLock { queued in
                guard !queued.sends.isEmpty else {
                    queued.working = false
                    return []
                }
                let taken = Array(queued.sends.prefix(configuration.concurrency))
                queued.sends.removeFirst(taken.count)
                return taken
            }
            guard !batch.isEmpty else { return }
            if draining.load(ordering: .relaxed) {
                for send in batch { source.giveBack(send.delivery) }
                handedBack.add(batch.count, ordering: .relaxed)
                continue
            }
            await work(batch)
        }
    }

    private func work(_ batch: [DeviceSend]) async {
        // In flight while the batch works on them; those handed on count themselves (`handle`).
        DispatcherMetrics.inFlight(inFlight.add(batch.count, ordering: .relaxed).newValue)
        var mine: [DeviceSend] = []
        var alone: [Delivery] = []
        var held: [Delivery] = []
        for send in batch {
            guard source.isCurrent(send.delivery) else {
                letGo(send.delivery, reason: Self.skipped)
                continue
            }
            // A copy of a request being worked on (by a task, or earlier in this batch) waits for
            // it the usual way, and then finds it finished.
            if let id = send.delivery.messageId, oneCopyAtATime.tryEnter(id) {
                mine.append(send)
            } else {
                alone.append(send.delivery)
            }
        }
        if !mine.isEmpty {
            // Every delivery of the batch came through the connection open now: it drops for all at once.
            let deliveries = mine.map(\.delivery)
            let lease = DeliveryLease(
                isCurrent: { [source] in deliveries.allSatisfy { source.isCurrent($0) } },
                silence: { [source] in source.silence(of: deliveries[0]) },
                ping: { [source] in source.ping() }
            )
            let outcome = await processor.process(batch: mine, lease: lease)
            for delivery in outcome.done { source.ack(delivery) }
            for delivery in outcome.takenBack {
                letGo(delivery, reason: "delivery of a dropped connection let go mid-way; the broker redelivered it")
            }
            if let write = outcome.write { await finish(write, acking: outcome.dispatched) }
            for send in mine { oneCopyAtATime.leave(send.delivery.messageId ?? "") }
            alone += outcome.alone
            held = outcome.held
        }
        DispatcherMetrics.inFlight(inFlight.subtract(batch.count, ordering: .relaxed).newValue)
        guard !alone.isEmpty || !held.isEmpty else { return }
        await withTaskGroup(of: Void.self) { group in
            for delivery in alone {
                // As when it was taken: one whose connection dropped meanwhile is the broker's again.
                guard source.isCurrent(delivery) else {
                    letGo(delivery, reason: Self.skipped)
                    continue
                }
                group.addTask { await self.handle(delivery) }
            }
            // Held as one would be alone: tried again after the pause, if still this dispatcher's.
            for delivery in held { group.addTask { await self.handle(delivery, startingWith: .hold(after: .seconds(1))) } }
        }
    }

    /// Runs the status write of a batch whose envelopes are confirmed until it is done, then acks
    /// the batch. While the store cannot take it, only the write is tried again (`complete`, as for
    /// one request), until the shutdown timeout cancels the wait: the deliveries are then handed back.
    private func finish(_ write: PendingWrite, acking deliveries: [Delivery]) async {
        if case .finish(let next, let delay) = await write.run() {
            var holds = 0
            guard await complete(next, after: delay, holds: &holds, metadata: ["requests": "\(deliveries.count)"]) else {
                for delivery in deliveries { source.giveBack(delivery) }
                return
            }
            logger.info("store available again; held requests processed", metadata: ["requests": "\(deliveries.count)"])
        }
        for delivery in deliveries { source.ack(delivery) }
    }
}
