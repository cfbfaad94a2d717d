import Synchronization

/// Group commit: the writes of concurrent callers go to the server together, in one statement,
/// instead of one round trip and one transaction each.
///
/// Nothing waits for a batch to fill: a write that finds fewer than `parallel` batches in flight
/// goes at once, alone. Writes that arrive while all are in flight queue up, and the first of
/// them, once a batch has answered, takes the whole queue (up to `limit`) to the server as the
/// next batch. So a batch grows with the load and costs no latency when there is none. Every
/// caller returns once its own item is written, or throws the error of the batch that held it.
package final class GroupCommit<Item: Sendable>: Sendable {
    private enum Turn { case written, lead }

    private struct Waiter {
        let item: Item
        let continuation: CheckedContinuation<Turn, any Error>
    }

    private struct State {
        /// Items not written yet, each waiting for a batch to take it.
        var queue: [Waiter] = []
        /// Batches being written, or about to be.
        var inFlight = 0
    }

    private let state = Mutex(State())
    private let limit: Int
    private let parallel: Int
    private let write: @Sendable ([Item]) async throws -> Void

    /// - Parameters:
    ///   - limit: the most items one batch holds.
    ///   - parallel: the most batches in flight at once (each takes a connection).
    ///   - write: writes a batch, all of it or none (one statement).
    package init(limit: Int, parallel: Int, write: @escaping @Sendable ([Item]) async throws -> Void) {
        precondition(limit > 0 && parallel > 0)
        self.limit = limit
        self.parallel = parallel
        self.write = write
    }

    /// Writes waiting for a batch to take them.
    package var waiting: Int { state.withLock { $0.queue.count } }

    /// Returns once `item` is written.
    package func submit(_ item: Item) async throws {
        let turn = try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Turn, any Error>) in
            let leads = state.withLock { state in
                guard state.inFlight >= parallel else {
                    state.inFlight += 1
                    return true
                }
                state.queue.append(Waiter(item: item, continuation: continuation))
                return false
            }
            if leads { continuation.resume(returning: .lead) }
        }
        guard turn == .lead else { return }
        // This call holds a place in flight: its item goes with what is queued now.
        let waiters = state.withLock { state in
            let taken = Array(state.queue.prefix(limit - 1))
            state.queue.removeFirst(taken.count)
            return taken
        }
        var failure: (any Error)?
        do {
            try await write([item] + waiters.map(\.item))
        } catch {
            failure = error
        }
        for waiter in waiters {
            if let failure {
                waiter.continuation.resume(throwing: failure)
            } else {
                waiter.continuation.resume(returning: .written)
            }
        }
        // The place in flight goes to the first write queued meanwhile, else it is given up.
        let next = state.withLock { state in
            guard !state.queue.isEmpty else {
                state.inFlight -= 1
                return nil as CheckedContinuation<Turn, any Error>?
            }
            return state.queue.removeFirst().continuation
        }
        next?.resume(returning: .lead)
        if let failure { throw failure }
    }
}
