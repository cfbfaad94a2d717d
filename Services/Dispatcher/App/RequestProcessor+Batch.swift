import AMQP
import Foundation
import HeraldCore
import Logging
import Store

/// A device send the dispatcher's batch took, decoded.
struct DeviceSend: Sendable {
    let delivery: Delivery
    let request: NotificationRequest
    let deviceId: String
}

/// What became of a batch of device sends (`RequestProcessor.process(batch:)`).
struct BatchOutcome: Sendable {
    /// Done with (copies of finished requests): ack.
    var done: [Delivery] = []
    /// To be worked on one by one, the usual way (`RequestProcessor.process`): anything but a
    /// plain dispatch (a rule broken, throttled, a device gone or ineligible, any failure). Nothing
    /// was published for them; what the gate recorded for them it finds recorded again.
    var alone: [Delivery] = []
    /// The store could not answer the gate: held, as `process` would have answered for each
    /// (`.hold`), and then worked on one by one.
    var held: [Delivery] = []
    /// Their connection dropped before their envelopes were confirmed: let go, not acked.
    var takenBack: [Delivery] = []
    /// Their envelopes are confirmed; once `write` is done, ack them (`write` is tried again alone
    /// while the store cannot take it, never the publish).
    var dispatched: [Delivery] = []
    var write: PendingWrite?
}

extension RequestProcessor {
    /// Device sends taken from the queue together, in one gate transaction, one confirmed publish
    /// of their envelopes and one status write, where each alone took a task, two turns of the
    /// stores' group commits and a confirm of its own (a fifth of the dispatcher's CPU per send
    /// at peak). Only plain dispatches go this way; everything else is handed back to be worked
    /// on one by one (`alone`), so that every rule of `process` holds for it.
    /// - Parameter lease: whether the batch's deliveries, all of the connection open when the batch
    ///   was taken, are still this dispatcher's.
    func process(batch: [DeviceSend], lease: DeliveryLease, now: Date = Date()) async -> BatchOutcome {
        var processor = self
        processor.lease = lease
        return await processor.processBatchOnce(batch, now: now)
    }

    private func processBatchOnce(_ batch: [DeviceSend], now: Date) async -> BatchOutcome {
        var outcome = BatchOutcome()
        let valid = batch.filter { send in
            do throws(RuleViolation) {
                try Validation.validateTitle(send.request.title)
                try Validation.validateBody(send.request.body)
                try Validation.validatePayloadSize(title: send.request.title, body: send.request.body)
                return true
            } catch {
                outcome.alone.append(send.delivery)
                return false
            }
        }
        guard !valid.isEmpty else { return outcome }
        let verdicts: [DispatchVerdict]
        do {
            verdicts = try await gate.admitAll(
                valid.map { send in
                    let (scope, rule, _) = throttleRule(for: send.request)
                    return GateQuestion(
                        tenantId: send.request.tenantId,
                        notificationId: send.request.id,
                        scope: scope,
                        rule: rule,
                        deviceId: send.deviceId,
                        now: now
                    )
                }
            )
        } catch  where engine.isUnavailable(error) {
            for _ in valid { DispatcherMetrics.request("store_unavailable") }
            logger.debug("the store is unavailable; the batch's requests are held and tried again", metadata: ["error": "\(error)"])
            outcome.held += valid.map(\.delivery)
            return outcome
        } catch {
            // Each is retried (or given up) on its own terms.
            outcome.alone += valid.map(\.delivery)
            return outcome
        }
        var messages: [OutgoingMessage] = []
        var admitted: [(send: DeviceSend, result: EmitResult)] = []
        for (send, verdict) in zip(valid, verdicts) {
            switch verdict {
            case .finished(let state):
                _ = duplicate(state, log: logger(for: send.request))
                outcome.done.append(send.delivery)
            case .throttled:
                outcome.alone.append(send.delivery)
            case .admitted(let device):
                guard let device, Eligibility.skipReason(for: device) == nil,
                    let envelope = EnvelopeBuilder(
                        notificationId: send.request.id,
                        tenantId: send.request.tenantId,
                        title: send.request.title,
                        body: send.request.body,
                        createdAt: now,
                        ttlSeconds: configuration.envelopeTTL
                    ).envelope(
                        userId: device.userId ?? "",
                        deviceId: device.id,
                        platform: device.platform,
                        pushToken: device.pushToken ?? ""
                    )
                else {
                    outcome.alone.append(send.delivery)
                    continue
                }
                measureLag(send.delivery, send.request, now: now)
                messages.append(envelope.message)
                var result = EmitResult()
                result.envelopes[envelope.route.rawValue, default: 0] += 1
                admitted.append((send, result))
            }
        }
        guard !admitted.isEmpty else { return outcome }
        let started = ContinuousClock.now
        do {
            try await publish(messages)
        } catch is DeliveryLease.TakenBack {
            outcome.takenBack += admitted.map(\.send.delivery)
            return outcome
        } catch {
            // The same envelope ids go out again from the usual path, as they would on a redelivery.
            outcome.alone += admitted.map(\.send.delivery)
            return outcome
        }
        for _ in admitted { DispatcherMetrics.fanOut(since: started) }
        outcome.dispatched = admitted.map(\.send.delivery)
        let statuses = statuses
        let log = logger
        let done = admitted.map { ($0.send.request, $0.result) }
        let records = admitted.map { emitted($0.send.request, $0.result) }
        outcome.write = PendingWrite(what: "status dispatched of \(records.count)", logger: logger, engine: engine) {
            try await statuses.saveAll(records)
            for (request, result) in done { Self.finished(request, result, log: log) }
        }
        return outcome
    }

    /// The logger of one request: its id and tenant on every line.
    func logger(for request: NotificationRequest) -> Logger {
        var log = logger
        log[metadataKey: "notification.id"] = "\(request.id)"
        log[metadataKey: "tenant.id"] = "\(request.tenantId)"
        return log
    }
}
