public import AMQP
public import Foundation
import HeraldCore
public import Logging
public import Store

/// What to tell the broker about one delivery.
public enum ProcessingOutcome: Sendable, Equatable {
    /// Done (dispatched, deferred, refused, failed for good, or dead-lettered by us): ack.
    case ack
    /// A transient failure: wait, then reject with requeue; the queue's delivery limit bounds the retries.
    case retry(after: Duration)
    /// The store cannot be used (locked, disk full, I/O) and nothing was published yet: keep the
    /// delivery and process it again after the pause, so an outage of the host, however long,
    /// does not use up the delivery limit.
    case hold(after: Duration)
    /// The delivery's connection dropped while it was being worked on (its publish held back, or
    /// between two batches of a fan-out): the broker has given it to another dispatcher, so it is
    /// let go (neither acked nor rejected; its tag is void).
    case abandon
    /// What the request needed published is confirmed, but the store write that follows failed:
    /// keep the delivery and run only that write again after the pause. Processing the delivery
    /// again would publish everything again.
    case finish(PendingWrite, after: Duration)
}

/// A store write left to do after a confirmed publish.
public struct PendingWrite: Sendable, Equatable {
    /// Tries it at most this often when it fails for another reason than an unavailable store.
    static let attemptsForOtherErrors = 5

    let what: String
    let logger: Logger
    /// Tells an unavailable store from another failure.
    let engine: any StoreEngine
    let body: @Sendable () async throws -> Void
    /// How often it failed for another reason than an unavailable store.
    var otherFailures = 0

    /// Runs the write once: `.ack` when it is done, else `.finish` with itself to try again.
    /// An unavailable store is waited out however long it lasts; any other error is tried a few
    /// times, then logged and given up (the envelopes are out; a new fan-out would repeat them).
    func run() async -> ProcessingOutcome {
        do {
            try await body()
            return .ack
        } catch  where engine.isUnavailable(error) {
            DispatcherMetrics.request("store_unavailable")
            logger.debug("the store is unavailable; only the write after the publish is tried again", metadata: ["error": "\(error)"])
            return .finish(self, after: .seconds(1))
        } catch {
            var next = self
            next.otherFailures += 1
            if next.otherFailures >= Self.attemptsForOtherErrors {
                logger.error(
                    "the write after a confirmed publish keeps failing; giving it up",
                    metadata: [
                        "write": "\(what)", "error": "\(error)",
                    ]
                )
                return .ack
            }
            return .finish(next, after: .seconds(1))
        }
    }

    public static func == (lhs: PendingWrite, rhs: PendingWrite) -> Bool { lhs.what == rhs.what && lhs.otherFailures == rhs.otherFailures }
}

/// Turns one accepted request into envelopes. Stateless between requests; safe to run many at once.
public struct RequestProcessor: Sendable {
    let configuration: DispatcherConfiguration
    let topology: Topology
    let directory: any DirectoryStore
    let statuses: any StatusStore
    /// The status, the throttle and the device, asked in one call (one round trip on PostgreSQL).
    let gate: any DispatchGate
    /// Tells a store that cannot answer now from a request it cannot serve.
    let engine: any StoreEngine
    let resolver: MembershipResolver
    let sink: any DispatchSink
    let logger: Logger
    /// Whether the delivery being processed is still this dispatcher's.
    var lease = DeliveryLease.unconditional

    public init(
        configuration: DispatcherConfiguration,
        topology: Topology,
        stores: Stores,
        sink: any DispatchSink,
        logger: Logger
    ) {
        self.configuration = configuration
        self.topology = topology
        self.directory = stores.directory
        self.statuses = stores.statuses
        self.gate = stores.dispatchGate
        self.engine = stores.engine
        self.resolver = MembershipResolver(directory: stores.directory, ttl: TimeInterval(configuration.membershipCacheTTL))
        self.sink = sink
        self.logger = logger
    }

    /// Processes one delivery of `herald.requests`. Never throws: every failure becomes an outcome.
    /// - Parameter lease: whether the delivery is still this dispatcher's; once it is not, no
    ///   further batch is published and a publish the broker held back is not sent again (`.abandon`).
    public func process(
        _ delivery: Delivery,
        now: Date = Date(),
        lease: DeliveryLease = .unconditional
    ) async
        -> ProcessingOutcome
    {
        var processor = self
        processor.lease = lease
        return await processor.processOnce(delivery, now: now)
    }

    private func processOnce(_ delivery: Delivery, now: Date) async -> ProcessingOutcome {
        let request: NotificationRequest
        do {
            request = try NotificationRequest.decode(Data(delivery.body))
        } catch {
            let detail = (error as? DecodingError).map { DecodingProblem.describe($0) }.map { "\($0.path) \($0.message)" } ?? "not JSON"
            return await deadLetter(delivery, reason: "undecodable request: \(detail)", log: logger)
        }
        let log = logger(for: request)
        do {
            let invalid: RuleViolation?
            do throws(RuleViolation) {
                try Validation.validateTitle(request.title)
                try Validation.validateBody(request.body)
                try Validation.validatePayloadSize(title: request.title, body: request.body)
                invalid = nil
            } catch {
                invalid = error
            }
            if let invalid {
                if let existing = try await statuses.status(tenantId: request.tenantId, id: request.id), existing.status.isFinished {
                    return duplicate(existing.status, log: log)
                }
                try await save(request, .failed, reason: "refused: \(invalid.description)")
                return await deadLetter(delivery, reason: "invalid request: \(invalid.description)", log: log)
            }
            let (scope, rule, what) = throttleRule(for: request)
            let deviceId: String? = if case .device(let id) = request.target { id } else { nil }
            let verdict = try await gate.admit(
                tenantId: request.tenantId,
                notificationId: request.id,
                scope: scope,
                rule: rule,
                deviceId: deviceId,
                now: now
            )
            let device: Device?
            switch verdict {
            case .finished(let state):
                return duplicate(state, log: log)
            case .throttled(let roomOpens):
                measureLag(delivery, request, now: now)
                switch configuration.throttle.policy {
                case .defer: return try await deferRequest(request, delivery: delivery, until: roomOpens, what: what, now: now, log: log)
                case .reject: return try await reject(request, until: roomOpens, what: what, log: log)
                }
            case .admitted(let found):
                measureLag(delivery, request, now: now)
                device = found
            }
            let started = ContinuousClock.now
            let result = try await emit(request, device: device, now: now, log: log)
            DispatcherMetrics.fanOut(since: started)
            let status = emitted(request, result)
            return await record(status, log: log) { log in Self.finished(request, result, log: log) }
        } catch is DeliveryLease.TakenBack {
            return .abandon
        } catch  where engine.isUnavailable(error) {
            DispatcherMetrics.request("store_unavailable")
            log.debug("the store is unavailable; the request is held and tried again", metadata: ["error": "\(error)"])
            return .hold(after: .seconds(1))
        } catch {
            let attempts = delivery.deliveryCount + 1
            if attempts >= topology.deliveryLimit {
                try? await save(request, .failed, reason: "failed after \(attempts) attempts: \(error)")
                return await deadLetter(delivery, reason: "failed after \(attempts) attempts: \(error)", log: log)
            }
            DispatcherMetrics.request("retried")
            log.warning("request failed; it will be retried", metadata: ["error": "\(error)", "attempt": "\(attempts)"])
            return .retry(after: min(.seconds(5), configuration.retryBaseDelay * (1 << min(attempts, 5))))
        }
    }

    /// The record of a request whose envelopes are out (or that failed), after counting them.
    func emitted(_ request: NotificationRequest, _ result: EmitResult) -> NotificationStatus {
        for (route, count) in result.envelopes { DispatcherMetrics.envelopes(route, count) }
        for (reason, count) in result.skipped { DispatcherMetrics.skipped(reason, count) }
        return NotificationStatus(
            id: request.id,
            tenantId: request.tenantId,
            kind: request.target.kind,
            status: result.failure == nil ? .dispatched : .failed,
            acceptedAt: request.acceptedAt,
            dispatchedAt: result.failure == nil ? Date() : nil,
            envelopes: result.envelopes,
            skipped: result.skipped,
            reason: result.failure,
            initiator: request.initiator,
            targets: request.target
        )
    }

    /// Counts and logs a request whose record says it is dispatched (or failed). The line names
    /// the request itself, so a batch logs it without making each request a logger of its own.
    static func finished(_ request: NotificationRequest, _ result: EmitResult, log: Logger) {
        DispatcherMetrics.request(result.failure == nil ? "dispatched" : "failed")
        log.info(
            result.failure == nil ? "notification dispatched" : "notification failed",
            metadata: [
                "notification.id": "\(request.id)", "tenant.id": "\(request.tenantId)",
                "envelopes.ios": "\(result.envelopes["ios"] ?? 0)", "envelopes.android": "\(result.envelopes["android"] ?? 0)",
                "skipped": "\(result.skipped.values.reduce(0, +))",
            ]
        )
    }

    /// How long the request waited in the queue, on its first try (a copy back from a delay queue
    /// was measured when it was first taken).
    func measureLag(_ delivery: Delivery, _ request: NotificationRequest, now: Date) {
        if !delivery.redelivered && delivery.deliveryCount == 0 && delivery.headers[Topology.deferralsHeader] == nil {
            DispatcherMetrics.lag(seconds: now.timeIntervalSince(request.acceptedAt))
        }
    }

    /// A copy of a request that is finished already: dropped.
    func duplicate(_ state: DeliveryState, log: Logger) -> ProcessingOutcome {
        DispatcherMetrics.request("duplicate")
        log.debug("request already finished; dropping the copy", metadata: ["status": "\(state.rawValue)"])
        return .ack
    }

    // MARK: Throttling

    func throttleRule(for request: NotificationRequest) -> (scope: String, rule: SlidingWindow, what: String) {
        let window = TimeInterval(configuration.throttle.windowSeconds)
        switch request.target {
        case .groups:
            return (
                ThrottleScope.groupSends(tenantId: request.tenantId), configuration.throttle.groupRule,
                "the tenant's limit of \(configuration.throttle.groupSendsPerWindow) group sends per \(Self.describe(window))"
            )
        case .device(let deviceId):
            return (
                ThrottleScope.deviceSends(tenantId: request.tenantId, deviceId: deviceId), configuration.throttle.deviceRule,
                "the device's limit of \(configuration.throttle.deviceSendsPerWindow) sends per \(Self.describe(window))"
            )
        }
    }

    private static func describe(_ window: TimeInterval) -> String {
        window == 3600 ? "hour" : "\(Int(window)) seconds"
    }

    /// Parks the request in a delay queue that dead-letters it back to `herald.requests`,
    /// so it waits without holding a consumer slot, and is checked again when it returns.
    private func deferRequest(
        _ request: NotificationRequest,
        delivery: Delivery,
        until roomOpens: Date,
        what: String,
        now: Date,
        log: Logger
    ) async throws -> ProcessingOutcome {
        let bucket = topology.delayBucket(for: roomOpens.timeIntervalSince(now))
        let deferrals: Int64 = if case .int(let n) = delivery.headers[Topology.deferralsHeader] { n } else { 0 }
        try await publish([
            OutgoingMessage(
                routingKey: Topology.delayQueue(seconds: bucket),
                body: delivery.body,
                messageId: request.id,
                headers: [Topology.reasonHeader: .string("deferred by \(what)"), Topology.deferralsHeader: .int(deferrals + 1)]
            )
        ])
        return await record(status(request, .deferred, reason: "deferred by \(what)", deferredUntil: roomOpens), log: log) { log in
            DispatcherMetrics.request("deferred")
            log.info("notification deferred", metadata: ["deferred.until": "\(Timestamp.string(roomOpens))", "delay.bucket": "\(bucket)s"])
        }
    }

    /// Refuses the request: status `throttled`, and its record (without title or body) on `herald.throttled`.
    private func reject(_ request: NotificationRequest, until roomOpens: Date, what: String, log: Logger) async throws -> ProcessingOutcome
    {
        let reason = "throttled by \(what); room opens at \(Timestamp.string(roomOpens))"
        let record = ThrottledRecord(
            id: request.id,
            tenantId: request.tenantId,
            principalId: request.principalId,
            target: request.target,
            acceptedAt: request.acceptedAt,
            reason: reason,
            roomOpensAt: roomOpens
        )
        try await publish([
            OutgoingMessage(
                routingKey: Topology.throttled,
                body: Array(try HeraldJSON.encoder.encode(record)),
                messageId: request.id,
                headers: [Topology.reasonHeader: .string(reason)]
            )
        ])
        return await self.record(status(request, .throttled, reason: reason, deferredUntil: roomOpens), log: log) { log in
            DispatcherMetrics.request("throttled")
            log.info("notification throttled", metadata: ["room.opens": "\(Timestamp.string(roomOpens))"])
        }
    }

    // MARK: Fan-out

    struct EmitResult {
        var envelopes: [String: Int] = ["ios": 0, "android": 0]
        var skipped: [String: Int] = [:]
        var failure: String?
    }

    /// Resolves the targets now and publishes one envelope per eligible device, in confirmed
    /// batches with up to `batchesInFlight` in flight. A redelivered request emits the same envelope ids again.
    /// - Parameter device: for a device send, the device as the gate read it (nil: it no longer exists).
    func emit(_ request: NotificationRequest, device: Device?, now: Date, log: Logger) async throws -> EmitResult {
        let builder = EnvelopeBuilder(
            notificationId: request.id,
            tenantId: request.tenantId,
            title: request.title,
            body: request.body,
            createdAt: now,
            ttlSeconds: configuration.envelopeTTL
        )
        var result = EmitResult()
        switch request.target {
        case .device:
            guard let device else {
                result.failure = "the device no longer exists"
                return result
            }
            if let reason = Eligibility.skipReason(for: device) {
                result.skipped[reason.rawValue] = 1
                result.failure = "the device cannot receive it: \(reason.explanation)"
                return result
            }
            guard
                let envelope = builder.envelope(
                    userId: device.userId ?? "",
                    deviceId: device.id,
                    platform: device.platform,
                    pushToken: device.pushToken ?? ""
                )
            else {
                result.failure = SkipReason.unsupportedPlatform.explanation
                return result
            }
            try await publish([envelope.message])
            result.envelopes[envelope.route.rawValue, default: 0] += 1
            return result
        case .groups(let groupIds):
            let pages = resolver.users(tenantId: request.tenantId, groupIds: groupIds)
            let batchSize = configuration.batchSize
            try await withThrowingTaskGroup(of: Void.self) { group in
                var pending: [OutgoingMessage] = []
                pending.reserveCapacity(batchSize)
                var inFlight = 0
                func send(_ batch: [OutgoingMessage]) async throws {
                    // The broker took the request back (its connection dropped): another dispatcher
                    // fans it out from the start, so going on would only add copies.
                    guard lease.isCurrent() else { throw DeliveryLease.TakenBack() }
                    if inFlight >= Self.batchesInFlight {
                        try await group.next()
                        inFlight -= 1
                    }
                    group.addTask { try await self.publish(batch) }
                    inFlight += 1
                }
                // The next page is read while this one is built and published: on a store across
                // the network, waiting for each read in turn left the broker idle between pages.
                var reading = readPage(pages, tenantId: request.tenantId, log: log)
                defer { reading.cancel() }
                while true {
                    let (devices, rest) = try await reading.value
                    guard let devices else { break }
                    reading = readPage(rest, tenantId: request.tenantId, log: log)
                    for device in devices {
                        if let reason = Eligibility.skipReason(for: device) {
                            result.skipped[reason.rawValue, default: 0] += 1
                            continue
                        }
                        guard
                            let envelope = builder.envelope(
                                userId: device.userId ?? "",
                                deviceId: device.id,
                                platform: device.platform,
                                pushToken: device.pushToken ?? ""
                            )
                        else { continue }
                        result.envelopes[envelope.route.rawValue, default: 0] += 1
                        pending.append(envelope.message)
                        if pending.count >= batchSize {
                            try await send(pending)
                            pending.removeAll(keepingCapacity: true)
                        }
                    }
                }
                if !pending.isEmpty { try await send(pending) }
                try await group.waitForAll()
            }
            return result
        }
    }

    /// Confirmed batches of a fan-out in flight at once. Four: at two, the broker waited for the
    /// dispatcher between batches (`make bench`'s fan-out, both stores).
    static let batchesInFlight = 4

    /// Reads the devices of the next page of users, in a task of its own; nil devices when there
    /// are no more users. Hands back the pages, advanced past the one read.
    ///
    /// A store that cannot answer mid fan-out is waited out, however long, and the same page read
    /// again: starting over would send every envelope already confirmed a second time. While it
    /// waits, the broker may take the delivery back (`DeliveryLease.TakenBack`); once the store
    /// answers, the fan-out goes on only if the delivery is still this dispatcher's.
    private func readPage(_ pages: UserPages, tenantId: String, log: Logger) -> Task<([Device]?, UserPages), any Error> {
        Task { [directory, engine, lease] in
            var pace = WarningPace()
            var waited = false
            while true {
                do {
                    var next = pages
                    guard let users = try await next.next() else { return (nil, next) }
                    let devices = try await directory.devices(tenantId: tenantId, ofUsers: users)
                    if waited { try await lease.confirm() }
                    return (devices, next)
                } catch  where engine.isUnavailable(error) {
                    DispatcherMetrics.request("store_unavailable")
                    if pace.isDue() {
                        log.warning(
                            "store unavailable mid fan-out; the next page is read again once it answers (nothing confirmed is sent again)",
                            metadata: ["error": "\(error)"]
                        )
                    }
                    waited = true
                    try await Task.sleep(for: .seconds(1))
                    guard lease.isCurrent() else { throw DeliveryLease.TakenBack() }
                }
            }
        }
    }

    // MARK: Helpers

    /// Publishes messages and returns once the broker confirmed them all. While the broker holds
    /// publishes back (a memory or disk alarm, or a connection it stopped reading), a batch it did
    /// not take, or did not confirm, is sent again once it reads again: an alarm, however long,
    /// costs no delivery attempt. Only cancellation (the shutdown timeout) ends that wait early, or
    /// the delivery turning out to be taken back meanwhile (`DeliveryLease.TakenBack`): another
    /// dispatcher has it. It is sent again only once the broker answered on the delivery's
    /// connection after publishes flowed again: a link that went silent and came back may have
    /// reconnected the publisher before the consumer knew its deliveries were gone.
    ///
    /// A batch the broker refused or left unconfirmed for a moment (a nack, a lost connection, no
    /// connection, a missing confirm: what a cluster does while a node goes or a queue elects a new
    /// leader) is sent again after a pause, on the same terms, for up to `brokerTroubleLimit`; only
    /// then does the request fail, counting one attempt. So a rolling restart of the broker costs
    /// no delivery attempt either. The copies this can make carry the same envelope ids.
    func publish(_ batch: [OutgoingMessage]) async throws {
        var troubleSince: ContinuousClock.Instant?
        var pause = configuration.retryBaseDelay
        var pace = WarningPace()
        while true {
            do {
                try await sink.publish(batch: batch)
                return
            } catch let error as AMQPError where Self.heldBack(error, sink: sink) {
                repeat { try await Task.sleep(for: .milliseconds(200)) } while sink.isHeldBack
                try await lease.confirm()
            } catch let error as AMQPError where Self.isPassing(error) {
                let since = troubleSince ?? .now
                troubleSince = since
                guard ContinuousClock.now - since < Self.brokerTroubleLimit else { throw error }
                DispatcherMetrics.request("broker_refused")
                if pace.isDue() {
                    logger.warning("the broker refused or lost a batch of envelopes; it is sent again", metadata: ["error": "\(error)"])
                }
                try await Task.sleep(for: pause)
                pause = min(pause * 2, .seconds(2))
                try await lease.confirm()
            }
        }
    }

    /// How long a batch is sent again while the broker refuses it or leaves it unconfirmed before
    /// the request fails (and uses up one of its attempts).
    static let brokerTroubleLimit: Duration = .seconds(120)

    /// Whether a failed publish failed for a reason that passes with the broker's trouble: a
    /// refusal or a lost or missing connection or confirm, not a message the broker cannot route.
    static func isPassing(_ error: AMQPError) -> Bool {
        switch error {
        case .nacked, .connectionLost, .notConnected, .confirmTimeout, .library, .server: true
        default: false
        }
    }

    /// Whether a failed publish failed because the broker held it back rather than refused it.
    static func heldBack(_ error: AMQPError, sink: any DispatchSink) -> Bool {
        switch error {
        case .blocked, .stalled: true
        case .confirmTimeout: sink.isHeldBack
        default: false
        }
    }

    /// Records `status` after the publish it follows was confirmed, then calls `done`. If the
    /// store fails, the write alone is handed back to be tried again (`.finish`).
    private func record(_ status: NotificationStatus, log: Logger, done: @escaping @Sendable (Logger) -> Void) async -> ProcessingOutcome {
        let statuses = statuses
        let write = PendingWrite(what: "status \(status.status.rawValue)", logger: log, engine: engine) {
            try await statuses.save(status)
            done(log)
        }
        return await write.run()
    }

    private func status(
        _ request: NotificationRequest,
        _ state: DeliveryState,
        reason: String?,
        deferredUntil: Date? = nil
    ) -> NotificationStatus {
        NotificationStatus(
            id: request.id,
            tenantId: request.tenantId,
            kind: request.target.kind,
            status: state,
            acceptedAt: request.acceptedAt,
            deferredUntil: deferredUntil,
            reason: reason,
            initiator: request.initiator,
            targets: request.target
        )
    }

    private func save(_ request: NotificationRequest, _ state: DeliveryState, reason: String?, deferredUntil: Date? = nil) async throws {
        try await statuses.save(status(request, state, reason: reason, deferredUntil: deferredUntil))
    }

    /// Moves a request to `herald.dead` with the reason in `x-herald-reason`, then acks it.
    /// If even that publish fails, the request is requeued and the broker's delivery limit
    /// dead-letters it in the end.
    private func deadLetter(_ delivery: Delivery, reason: String, log: Logger) async -> ProcessingOutcome {
        do {
            try await publish([
                OutgoingMessage(
                    routingKey: Topology.dead,
                    body: delivery.body,
                    messageId: delivery.messageId ?? NotificationID.make(),
                    headers: [Topology.reasonHeader: .string(reason), Topology.deadAtHeader: .string(Timestamp.string(Date()))]
                )
            ])
            DispatcherMetrics.request("dead_lettered")
            log.warning("request dead-lettered", metadata: ["reason": "\(reason)"])
            return .ack
        } catch {
            log.warning("dead-lettering failed; requeueing", metadata: ["error": "\(error)"])
            return .retry(after: .seconds(1))
        }
    }
}

/// What `herald.throttled` receives: the request without its title and body.
struct ThrottledRecord: Codable {
    var id: String
    var tenantId: String
    var principalId: String
    var target: NotificationTarget
    var acceptedAt: Date
    var reason: String
    var roomOpensAt: Date
}
