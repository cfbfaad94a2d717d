import Metrics
public import Prometheus

/// Prometheus for an executable: bootstraps swift-metrics once and keeps the
/// registry that `/metrics` renders.
public enum MetricsSetup {
    /// Bootstraps the metrics system; call once, from `main`.
    public static func bootstrapPrometheus() -> PrometheusCollectorRegistry {
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .microseconds(500), .milliseconds(1), .milliseconds(2), .milliseconds(5), .milliseconds(10),
            .milliseconds(20), .milliseconds(50), .milliseconds(100), .milliseconds(250), .milliseconds(500),
            .seconds(1), .seconds(2), .seconds(5), .seconds(30),
        ]
        MetricsSystem.bootstrap(factory)
        return registry
    }

    /// The registry's text exposition.
    public static func render(_ registry: PrometheusCollectorRegistry?) -> [UInt8] {
        var buffer: [UInt8] = []
        registry?.emit(into: &buffer)
        return buffer
    }
}
