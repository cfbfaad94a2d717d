import AMQP
import DispatcherApp
import Foundation
import HeraldCore
import LoadApp
import Logging
import SQLiteStore
import ServiceLifecycle
import Store
import Synchronization
import TestSupport
import Testing

/// Takes every envelope off the push queues while a test runs and counts the copies of each id.
final class EnvelopeTally: Sendable {
    private let collector: EnvelopeCollector
    private let task: Task<Void, Never>

    /// - Parameter configuration: the broker; the test broker when nil.
    init(configuration: AMQPConfiguration? = nil) throws {
        let collector = try EnvelopeCollector(configuration: try configuration ?? Broker.configuration(), logger: quietLogger())
        self.collector = collector
        task = Task { await collector.run() }
    }

    /// Waits until at least `count` distinct envelope ids arrived, then a quiet second more for
    /// late copies; returns the copies of each id.
    func copies(atLeast count: Int, timeout: Duration = .seconds(120)) async -> [String: Int] {
        _ = await eventually(timeout: timeout) { self.collector.snapshot().arrivals.count >= count }
        var last = -1
        _ = await eventually(timeout: .seconds(20)) {
            let now = self.collector.received
            defer { last = now }
            if now == last { return true }
            try? await Task.sleep(for: .seconds(1))
            return false
        }
        return collector.snapshot().arrivals.mapValues(\.copies)
    }

    /// Distinct envelope ids that arrived so far.
    var distinct: Int { collector.snapshot().arrivals.count }

    func stop() {
        collector.stop()
        task.cancel()
    }
}
