import NIOConcurrencyHelpers
import NIOCore

/// A first-in, first-out queue that many tasks take from: the open-model scheduler puts each
/// send in when it is due, and whichever connection is free takes it.
final class WorkQueue<Item: Sendable>: Sendable {
    private struct State {
        var items = CircularBuffer<Item>()
        var waiters = CircularBuffer<CheckedContinuation<Item?, Never>>()
        var finished = false
    }
    private let state = NIOLockedValueBox(State())

    /// Items waiting for a taker.
    var backlog: Int { state.withLockedValue { $0.items.count } }

    func push(_ item: Item) {
        let waiter: CheckedContinuation<Item?, Never>? = state.withLockedValue { state in
            if let waiter = state.waiters.popFirst() { return waiter }
            state.items.append(item)
            return nil
        }
        waiter?.resume(returning: item)
    }

    /// The next item, or nil once `finish()` was called and nothing is left.
    func pop() async -> Item? {
        await withCheckedContinuation { continuation in
            let ready: Item?? = state.withLockedValue { state in
                if let item = state.items.popFirst() { return .some(item) }
                if state.finished { return .some(nil) }
                state.waiters.append(continuation)
                return .none
            }
            if let ready { continuation.resume(returning: ready) }
        }
    }

    /// No more items will come: waiting takers get nil.
    func finish() {
        let waiters = state.withLockedValue { state in
            state.finished = true
            defer { state.waiters.removeAll() }
            return Array(state.waiters)
        }
        for waiter in waiters { waiter.resume(returning: nil) }
    }
}
