import HeraldRuntime
import Metrics

/// The dispatcher's metrics, named in one place (documented in the README's metrics table).
enum DispatcherMetrics {
    /// `herald_dispatcher_requests_total{outcome}`: dispatched, deferred, throttled, failed,
    /// dead_lettered, duplicate, retried, store_unavailable (one per attempt while the store is down),
    /// broker_refused (one per batch sent again while the broker refuses or loses envelopes).
    static func request(_ outcome: String) {
        MetricHandles.counter("herald_dispatcher_requests_total", ("outcome", outcome)).increment()
    }

    /// `herald_dispatcher_envelopes_total{platform}`.
    static func envelopes(_ route: String, _ count: Int) {
        guard count > 0 else { return }
        MetricHandles.counter("herald_dispatcher_envelopes_total", ("platform", route)).increment(by: count)
    }

    /// `herald_dispatcher_skipped_devices_total{reason}`.
    static func skipped(_ reason: String, _ count: Int) {
        MetricHandles.counter("herald_dispatcher_skipped_devices_total", ("reason", reason)).increment(by: count)
    }

    /// `herald_dispatcher_fanout_seconds`: from taking a request to its last envelope confirmed.
    static func fanOut(since start: ContinuousClock.Instant) {
        MetricHandles.timer("herald_dispatcher_fanout_seconds").record(duration: ContinuousClock.now - start)
    }

    /// `herald_dispatcher_consumer_lag_seconds`: from acceptance to the start of dispatch.
    static func lag(seconds: Double) {
        MetricHandles.timer("herald_dispatcher_consumer_lag_seconds").recordNanoseconds(Int64(max(0, seconds) * 1_000_000_000))
    }

    /// `herald_queue_messages{queue}`: messages waiting on a queue, as the broker last said.
    static func queueDepth(_ queue: String, _ messages: Int) {
        MetricHandles.gauge("herald_queue_messages", ("queue", queue)).record(messages)
    }

    /// `herald_dispatcher_in_flight`: requests being processed now.
    static func inFlight(_ value: Int) {
        MetricHandles.gauge("herald_dispatcher_in_flight").record(value)
    }
}
