import Dispatch
import Foundation
import HeraldCore
import Histogram
import NIOConcurrencyHelpers
import NIOCore
import NIOHTTP1
public import NIOPosix

/// How a run drives ingest.
public struct LoadSettings: Sendable {
    /// One ingest host to send to.
    public struct Target: Sendable, Equatable {
        public var host: String
        public var port: Int

        public init(host: String, port: Int) {
            self.host = host
            self.port = port
        }
    }

    /// Open model: sends are due at a fixed rate whatever the responses do, so a slow
    /// response delays nothing else and its wait is counted. Closed: N sends always in flight.
    public enum Model: Sendable {
        case rate(Double)
        case concurrency(Int)
    }

    /// The ingest hosts: each connection starts on one of them in turn, and a send that gets no
    /// answer is tried again on the next one, as a client behind a load balancer would be.
    public var targets: [Target]
    public var model: Model
    /// Stop sending after this long…
    public var duration: Duration?
    /// …or after this many sends.
    public var count: Int?
    /// HTTP connections for the open model (the closed model uses one per sender).
    public var connections: Int
    /// How long to wait for missing envelopes once sending stopped.
    public var settle: Duration
    /// Retries of a send that got no answer, a 503 or "in progress", with the same `Idempotency-Key`
    /// (0: no key is sent and nothing is retried, as a plain client would).
    public var retries: Int

    public init(
        targets: [Target],
        model: Model,
        duration: Duration?,
        count: Int?,
        connections: Int,
        settle: Duration,
        retries: Int = 0
    ) {
        precondition(!targets.isEmpty, "a load run needs an ingest host")
        self.targets = targets
        self.model = model
        self.duration = duration
        self.count = count
        self.connections = connections
        self.settle = settle
        self.retries = retries
    }
}

/// A progress reading, about once a second.
public struct LoadProgress: Sendable {
    public var elapsed: Double
    public var sent: Int
    public var accepted: Int
    public var errors: Int
    public var envelopes: Int
    public var backlog: Int
    public var settling: Bool
}

/// One load run: sends through ingest over HTTP, takes the envelopes off the push queues,
/// and matches every envelope to its send.
public final class LoadRun: Sendable {
    private struct Job: Sendable {
        var send: PlannedSend
        var due: UInt64
    }

    private struct Accepted {
        var notificationId: String
        var tenant: String
        var due: UInt64
    }

    private struct State {
        var http = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        var sent = 0
        var groupSends = 0
        var deviceSends = 0
        var errors: [String: Int] = [:]
        var accepted: [Accepted] = []
        /// Envelope id → (index in `accepted`, the queue it belongs on).
        var expected: [String: (send: Int, route: PushRoute)] = [:]
        var lastResponse: UInt64 = 0
        var budgetExhausted = false
        var retried = 0
        /// Since when every answer was a refusal (a 503 or none), if the last one was.
        var refusingSince: UInt64?
        var longestRefusal: UInt64 = 0
        /// Answers that were a refusal, the ones later retried included.
        var refusals = 0

        /// Counts one answer toward the longest stretch in which ingest accepted nothing.
        mutating func answered(accepted: Bool, at time: UInt64) {
            if accepted {
                if let since = refusingSince { longestRefusal = max(longestRefusal, time &- since) }
                refusingSince = nil
            } else {
                refusals += 1
                if refusingSince == nil { refusingSince = time }
            }
        }
    }

    private let settings: LoadSettings
    private let planner: NIOLockedValueBox<SendPlanner>
    private let tokens: [String: String]
    private let collector: EnvelopeCollector
    private let group: MultiThreadedEventLoopGroup
    private let state = NIOLockedValueBox(State())
    /// Makes this run's idempotency keys unique.
    private let nonce = String(UInt64.random(in: 0...UInt64.max), radix: 36)

    /// - Parameter tokens: a bearer token per tenant id.
    public init(
        settings: LoadSettings,
        planner: SendPlanner,
        tokens: [String: String],
        collector: EnvelopeCollector,
        group: MultiThreadedEventLoopGroup
    ) {
        self.settings = settings
        self.planner = NIOLockedValueBox(planner)
        self.tokens = tokens
        self.collector = collector
        self.group = group
    }

    /// Runs the load, waits for the envelopes, and reports. `progress` is called about once a second.
    public func run(progress: @escaping @Sendable (LoadProgress) -> Void) async throws -> LoadReport {
        let start = now()
        let queue = WorkQueue<Job>()
        let settling = NIOLockedValueBox(false)

        return try await withThrowingTaskGroup(of: Void.self) { tasks in
            tasks.addTask { await self.collector.run() }
            tasks.addTask {
                while !Task.isCancelled {
                    try await Task.sleep(for: .seconds(1))
                    progress(self.progress(since: start, backlog: queue.backlog, settling: settling.withLockedValue { $0 }))
                }
            }

            try await drive(start: start, queue: queue)
            let sendingEnded = now()
            settling.withLockedValue { $0 = true }
            await settle()
            collector.stop()
            let report = await makeReport(start: start, sendingEnded: sendingEnded)
            tasks.cancelAll()
            return report
        }
    }

    // MARK: Sending

    private func drive(start: UInt64, queue: WorkQueue<Job>) async throws {
        let end = settings.duration.map { start + UInt64($0.inSeconds * 1e9) }
        switch settings.model {
        case .rate(let rate):
            try await withThrowingTaskGroup(of: Void.self) { lanes in
                for index in 0..<max(1, settings.connections) {
                    lanes.addTask {
                        var lane = Lane(target: index % self.settings.targets.count)
                        while let job = await queue.pop() { await self.perform(job, on: &lane) }
                        await lane.connection?.close()
                    }
                }
                let interval = 1e9 / rate
                var i = 0
                while true {
                    if let count = settings.count, i >= count { break }
                    let due = start + UInt64(Double(i) * interval)
                    if let end, due >= end { break }
                    let current = now()
                    if due > current { try await Task.sleep(nanoseconds: due - current) }
                    guard let send = nextSend() else { break }
                    queue.push(Job(send: send, due: due))
                    i += 1
                }
                queue.finish()
                try await lanes.waitForAll()
            }
        case .concurrency(let senders):
            let issued = NIOLockedValueBox(0)
            await withTaskGroup(of: Void.self) { lanes in
                for index in 0..<max(1, senders) {
                    lanes.addTask {
                        var lane = Lane(target: index % self.settings.targets.count)
                        while true {
                            let due = self.now()
                            if let end, due >= end { break }
                            let mayGo = issued.withLockedValue { n in
                                if let count = self.settings.count, n >= count { return false }
                                n += 1
                                return true
                            }
                            guard mayGo, let send = self.nextSend() else { break }
                            await self.perform(Job(send: send, due: due), on: &lane)
                        }
                        await lane.connection?.close()
                    }
                }
            }
        }
    }

    private func nextSend() -> PlannedSend? {
        let send = planner.withLockedValue { $0.next() }
        if send == nil { state.withLockedValue { $0.budgetExhausted = true } }
        return send
    }

    /// One sender's connection, and the ingest host it goes to.
    private struct Lane {
        var target: Int
        var connection: HTTPConnection?
    }

    private func perform(_ job: Job, on lane: inout Lane) async {
        let send = job.send
        state.withLockedValue { state in
            state.sent += 1
            if send.kind == .group { state.groupSends += 1 } else { state.deviceSends += 1 }
        }
        var headers = [("Authorization", "Bearer " + (tokens[send.tenant] ?? "")), ("Content-Type", "application/json")]
        if settings.retries > 0 { headers.append(("Idempotency-Key", "load-\(nonce)-\(send.index)")) }
        var outcome = "transport"
        var notificationId: String?
        for attempt in 0...settings.retries {
            if attempt > 0 {
                state.withLockedValue { $0.retried += 1 }
                try? await Task.sleep(for: .milliseconds(200 * min(attempt, 10)))
            }
            do {
                if lane.connection == nil || lane.connection?.isActive == false {
                    let target = settings.targets[lane.target]
                    lane.connection = try await HTTPConnection.connect(host: target.host, port: target.port, group: group)
                }
                let response = try await lane.connection!.request(.POST, send.path, headers: headers, body: send.body)
                let answeredAt = now()
                state.withLockedValue { $0.answered(accepted: response.status == 202, at: answeredAt) }
                if response.status == 202, let id = Self.notificationId(in: response.body) {
                    notificationId = id
                    break
                }
                outcome = response.status == 202 ? "202 without id" : String(response.status)
                let inProgress = response.status == 409 && String(buffer: response.body).contains("idempotency_in_progress")
                guard response.status == 503 || inProgress else { break }
            } catch {
                // No answer: the retry goes to the next host (the key makes a repeat harmless).
                lane.connection = nil
                lane.target = (lane.target + 1) % settings.targets.count
                outcome = "transport"
                let failedAt = now()
                state.withLockedValue { $0.answered(accepted: false, at: failedAt) }
            }
        }
        let finished = now()
        var expected: [String: PushRoute] = [:]
        if let notificationId {
            for (device, route) in send.expected {
                expected[EnvelopeBuilder.envelopeId(notificationId: notificationId, deviceId: device)] = route
            }
        }
        state.withLockedValue { state in
            state.http.record((finished &- job.due) / 1000)
            state.lastResponse = max(state.lastResponse, finished)
            guard let notificationId else {
                state.errors[outcome, default: 0] += 1
                return
            }
            let index = state.accepted.count
            state.accepted.append(Accepted(notificationId: notificationId, tenant: send.tenant, due: job.due))
            for (id, route) in expected { state.expected[id] = (index, route) }
        }
    }

    private static func notificationId(in body: ByteBuffer) -> String? {
        struct Accepted: Decodable { var id: String }
        return try? JSONDecoder().decode(Accepted.self, from: Data(body.readableBytesView)).id
    }

    // MARK: Settling and the report

    /// Waits until every expected envelope arrived, or the settle time passed; then a little
    /// longer, so stray duplicates and strangers are counted too.
    private func settle() async {
        let deadline = now() + UInt64(settings.settle.inSeconds * 1e9)
        let ids = state.withLockedValue { Array($0.expected.keys) }
        while now() < deadline, collector.arrivedCount(of: ids) < ids.count {
            try? await Task.sleep(for: .milliseconds(200))
        }
        try? await Task.sleep(for: .milliseconds(500))
    }

    private func progress(since start: UInt64, backlog: Int, settling: Bool) -> LoadProgress {
        let received = collector.received
        return state.withLockedValue { state in
            LoadProgress(
                elapsed: Double(now() - start) / 1e9,
                sent: state.sent,
                accepted: state.accepted.count,
                errors: state.errors.values.reduce(0, +),
                envelopes: received,
                backlog: backlog,
                settling: settling
            )
        }
    }

    private func makeReport(start: UInt64, sendingEnded: UInt64) async -> LoadReport {
        let (arrivals, withoutId) = collector.snapshot()
        let state = state.withLockedValue { $0 }
        var endToEnd = Histogram<UInt64>(highestTrackableValue: 3_600_000_000, numberOfSignificantValueDigits: .three)
        var lost = 0
        var duplicates = 0
        var publishedAgain = 0
        var wrongQueue = 0
        var lastArrival = start
        var missingBySend: [Int: Int] = [:]
        for (id, expectation) in state.expected {
            guard let arrival = arrivals[id] else {
                lost += 1
                missingBySend[expectation.send, default: 0] += 1
                continue
            }
            _ = endToEnd.record((arrival.firstAt &- state.accepted[expectation.send].due) / 1000)
            lastArrival = max(lastArrival, arrival.firstAt)
            duplicates += arrival.copies - 1
            publishedAgain += max(0, arrival.freshCopies - 1)
            if arrival.route != expectation.route { wrongQueue += 1 }
        }
        let unexpected = arrivals.reduce(withoutId) { state.expected[$1.key] == nil ? $0 + $1.value.copies : $0 }
        let received = arrivals.values.reduce(withoutId) { $0 + $1.copies }
        let matched = state.expected.count - lost
        let sendingSeconds = Double(max(sendingEnded, state.lastResponse) - start) / 1e9
        let envelopeSeconds = Double(lastArrival - start) / 1e9

        let model: String =
            switch settings.model {
            case .rate(let rate): "open model, \(String(format: "%g", rate)) sends/s over \(settings.connections) connections"
            case .concurrency(let n): "closed model, \(n) concurrent senders"
            }
        return LoadReport(
            model: model,
            seconds: sendingSeconds,
            sends: state.sent,
            accepted: state.accepted.count,
            acceptedPerSecond: sendingSeconds > 0 ? Double(state.accepted.count) / sendingSeconds : 0,
            groupSends: state.groupSends,
            deviceSends: state.deviceSends,
            errors: state.errors,
            envelopes: .init(
                expected: state.expected.count,
                received: received,
                perSecond: envelopeSeconds > 0 ? Double(matched) / envelopeSeconds : 0,
                lost: lost,
                unexpected: unexpected,
                duplicates: duplicates,
                publishedAgain: publishedAgain,
                wrongQueue: wrongQueue
            ),
            httpLatency: .init(state.http),
            endToEndLatency: .init(endToEnd),
            incompleteByStatus: await statuses(of: missingBySend.keys.map { state.accepted[$0] }),
            queuesAtEnd: await collector.depths(),
            budgetExhausted: state.budgetExhausted,
            retries: state.retried,
            longestRefusalSeconds: Double(
                state.refusingSince.map { max(state.longestRefusal, state.lastResponse &- $0) } ?? state.longestRefusal
            ) / 1e9,
            refusals: state.refusals
        )
    }

    /// Asks ingest for the status of sends that miss envelopes (at most 200 of them), so the
    /// report says whether they are throttled, deferred, or never dispatched.
    private func statuses(of sends: [Accepted]) async -> [String: Int] {
        guard !sends.isEmpty else { return [:] }
        var counts: [String: Int] = [:]
        var reachable: HTTPConnection?
        for target in settings.targets where reachable == nil {
            reachable = try? await HTTPConnection.connect(host: target.host, port: target.port, group: group)
        }
        guard let connection = reachable else { return ["unknown (ingest unreachable)": sends.count] }
        struct Status: Decodable { var status: String }
        for send in sends.prefix(200) {
            let response = try? await connection.request(
                .GET,
                "/v1/notifications/\(send.notificationId)",
                headers: [("Authorization", "Bearer " + (tokens[send.tenant] ?? ""))]
            )
            let status = response.flatMap { try? JSONDecoder().decode(Status.self, from: Data($0.body.readableBytesView)).status }
            counts[status ?? "unknown", default: 0] += 1
        }
        if sends.count > 200 { counts["not looked up", default: 0] += sends.count - 200 }
        await connection.close()
        return counts
    }

    private func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
}
