import Foundation
public import Histogram

/// What a load run measured; printed as a table or, with `--json`, as one JSON object.
public struct LoadReport: Codable, Sendable {
    /// Percentiles of one latency histogram, in milliseconds.
    public struct Latency: Codable, Sendable {
        public var count: UInt64
        public var p50: Double
        public var p90: Double
        public var p99: Double
        public var p999: Double
        public var max: Double

        /// Reads a histogram of microseconds.
        public init(_ histogram: Histogram<UInt64>) {
            func ms(_ value: UInt64) -> Double { (Double(value) / 1000 * 100).rounded() / 100 }
            count = histogram.totalCount
            p50 = ms(histogram.valueAtPercentile(50))
            p90 = ms(histogram.valueAtPercentile(90))
            p99 = ms(histogram.valueAtPercentile(99))
            p999 = ms(histogram.valueAtPercentile(99.9))
            max = ms(histogram.max)
        }
    }

    /// Envelope accounting: every expected envelope against what the queues gave.
    public struct Envelopes: Codable, Sendable {
        public var expected: Int
        public var received: Int
        public var perSecond: Double
        /// Expected but never taken off a queue within the settle time.
        public var lost: Int
        /// Taken off a queue but belonging to no accepted send of this run.
        public var unexpected: Int
        /// Extra copies of an envelope id already seen.
        public var duplicates: Int
        /// Of those, copies Herald published again, as opposed to copies the broker delivered
        /// again to this run's consumer (flagged `redelivered`: its own connection dropped before
        /// its ack), which a push gateway meets the same way.
        public var publishedAgain: Int
        /// Arrived on the other platform's queue.
        public var wrongQueue: Int
    }

    public var model: String
    public var seconds: Double
    public var sends: Int
    public var accepted: Int
    public var acceptedPerSecond: Double
    public var groupSends: Int
    public var deviceSends: Int
    /// Responses other than 202 by status code, and transport failures as `"transport"`.
    public var errors: [String: Int]
    public var envelopes: Envelopes
    /// From the moment a send was due to its 202 (an open model counts time spent queued).
    public var httpLatency: Latency
    /// From the moment a send was due to the moment its envelope was taken off the queue.
    public var endToEndLatency: Latency
    /// Status of accepted notifications that still miss envelopes, as ingest reports it.
    public var incompleteByStatus: [String: Int]
    /// Messages left on Herald's queues when the run ended, read from the broker: a request still
    /// on `herald.requests` was accepted but never dispatched (no dispatcher, or one falling behind).
    public var queuesAtEnd: [String: Int] = [:]
    /// The plan stopped early because the directory's throttle budget was used up.
    public var budgetExhausted: Bool
    /// Sends made again with their `Idempotency-Key` (`--retries`).
    public var retries: Int
    /// The longest stretch in which ingest accepted nothing: from a refusal (a 503 or no answer)
    /// that followed a 202, or began the run, to the next 202; 0 when every send was accepted.
    public var longestRefusalSeconds: Double = 0
    /// Answers that were a 503 or none at all, counting every try of a send (`errors` counts only
    /// sends that never got a 202).
    public var refusals = 0
    /// Extra copies of an envelope id do not fail the run (`--allow-duplicates`): at-least-once
    /// delivery may repeat an envelope after a broker or worker failure, always with the same id.
    public var duplicatesAllowed = false

    /// Whether every accepted send got its envelopes, nothing else arrived, nothing went to the
    /// wrong queue, and (unless allowed) nothing arrived twice.
    public var passed: Bool {
        accepted > 0 && envelopes.lost == 0 && envelopes.unexpected == 0 && envelopes.wrongQueue == 0
            && (duplicatesAllowed || envelopes.duplicates == 0)
    }

    /// One JSON object.
    public func json() throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        return String(decoding: try encoder.encode(self), as: UTF8.self)
    }

    /// The table a person reads.
    public var table: String {
        func row(_ name: String, _ value: String) -> String { "  " + name.padding(toLength: 28, withPad: " ", startingAt: 0) + value }
        func latency(_ l: Latency) -> String {
            "p50 \(l.p50) · p90 \(l.p90) · p99 \(l.p99) · p99.9 \(l.p999) · max \(l.max) ms (\(l.count))"
        }
        var lines = [
            "herald-load run: \(model), \(String(format: "%.1f", seconds)) s",
            row("sends", "\(sends) (\(groupSends) group, \(deviceSends) device)"),
            row("accepted", "\(accepted) = \(String(format: "%.0f", acceptedPerSecond))/s" + (retries > 0 ? " (\(retries) retries)" : "")),
            row(
                "errors",
                errors.isEmpty
                    ? "none"
                    : errors.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
                        + String(
                            format: "; %d tries refused (503 or no answer), none accepted for %.2f s at most",
                            refusals,
                            longestRefusalSeconds
                        )
            ),
            row("HTTP latency", latency(httpLatency)),
            row("envelopes", "\(envelopes.received) of \(envelopes.expected) expected = \(String(format: "%.0f", envelopes.perSecond))/s"),
            row("end-to-end latency", latency(endToEndLatency)),
            row("lost", "\(envelopes.lost)"),
            row("unexpected", "\(envelopes.unexpected)"),
            row(
                "duplicates",
                "\(envelopes.duplicates) (\(envelopes.publishedAgain) published again)"
                    + (duplicatesAllowed ? ", allowed: same envelope id" : "")
            ),
            row("on the wrong queue", "\(envelopes.wrongQueue)"),
        ]
        if !queuesAtEnd.isEmpty {
            lines.append(
                row("left on the broker", queuesAtEnd.sorted { $0.key < $1.key }.map { "\($0.key) \($0.value)" }.joined(separator: " · "))
            )
        }
        if !incompleteByStatus.isEmpty {
            lines.append(
                row(
                    "incomplete sends by status",
                    incompleteByStatus.sorted { $0.key < $1.key }.map { "\($0.key): \($0.value)" }.joined(separator: ", ")
                )
            )
        }
        if budgetExhausted {
            lines.append(
                "  note: the directory's throttle budget ran out, so the run ended early; seed more tenants or pass --allow-throttled"
            )
        }
        lines.append(
            passed
                ? "  PASS: every accepted send got its envelopes, and nothing else arrived"
                : "  FAIL: nothing accepted, or envelopes lost, unexpected, duplicated or misrouted"
        )
        return lines.joined(separator: "\n")
    }
}
