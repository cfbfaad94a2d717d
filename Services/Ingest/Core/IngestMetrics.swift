import HeraldRuntime
import Metrics

/// Ingest's metrics, named in one place (documented in the README's metrics table).
enum IngestMetrics {
    /// `herald_ingest_requests_total{outcome}`: `accepted`, `replayed`, or the error code of a refusal.
    static func request(outcome: String) {
        MetricHandles.counter("herald_ingest_requests_total", ("outcome", outcome)).increment()
    }

    /// `herald_ingest_publish_confirm_seconds`: from publish to the broker's confirm.
    static func publishConfirmed(since start: ContinuousClock.Instant) {
        MetricHandles.timer("herald_ingest_publish_confirm_seconds").record(duration: ContinuousClock.now - start)
    }
}
