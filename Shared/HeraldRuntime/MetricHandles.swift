public import Metrics
import Synchronization

/// The metric objects of the hot paths, made once per label and value and kept.
///
/// `Counter(label:dimensions:)` asks the metrics factory every time, which looks the metric up in
/// Prometheus's registry under a lock; at every send that was 1–2% of the dispatcher's CPU. The
/// cache is filled after `MetricsSetup.bootstrapPrometheus()`, which every executable calls first.
public enum MetricHandles {
    private static let counters = Mutex<[String: Counter]>([:])
    private static let timers = Mutex<[String: Timer]>([:])
    private static let gauges = Mutex<[String: Gauge]>([:])

    /// The counter `label`, with one dimension when `dimension` is given.
    public static func counter(_ label: String, _ dimension: (String, String)? = nil) -> Counter {
        handle(in: counters, label, dimension) { Counter(label: label, dimensions: dimension.map { [$0] } ?? []) }
    }

    /// The timer `label` (a histogram of durations in Prometheus).
    public static func timer(_ label: String) -> Timer {
        handle(in: timers, label, nil as (String, String)?) { Timer(label: label) }
    }

    /// The gauge `label`, with one dimension when `dimension` is given.
    public static func gauge(_ label: String, _ dimension: (String, String)? = nil) -> Gauge {
        handle(in: gauges, label, dimension) { Gauge(label: label, dimensions: dimension.map { [$0] } ?? []) }
    }

    private static func handle<Handle: Sendable>(
        in cache: borrowing Mutex<[String: Handle]>,
        _ label: String,
        _ dimension: (String, String)?,
        make: () -> Handle
    ) -> Handle {
        let key = dimension.map { label + "\u{0}" + $0.0 + "\u{0}" + $0.1 } ?? label
        if let known = cache.withLock({ $0[key] }) { return known }
        let made = make()
        return cache.withLock { cache in
            if let known = cache[key] { return known }
            cache[key] = made
            return made
        }
    }
}
