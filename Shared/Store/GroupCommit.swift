package import Synchronization

/// Group commit: the writes of concurrent callers go to the store together, in one statement or
/// transaction, instead of one round trip and one transaction each.
///
/// Nothing waits for a batch to fill: a write that finds fewer than `parallel` batches in flight
/// goes at once, alone. Writes that arrive while all are in flight queue up, and the first of
/// them, once a batch has answered, takes the whole queue (up to `limit`) to the store as the
/// next batch. So a batch grows with the load and costs no latency when there is none. Every
/// caller returns once its own item is written, with its own answer, or throws the error of the
/// batch that held it.
///
/// `@inlinable`, so that each store's use is specialized for its item and answer types: unspecialized,
/// every call looked up the generic metadata of its continuation and result and built a key path
/// at run time (~5% of the dispatcher's CPU at peak).
package final class GroupCommit<Item: Sendable, Answer: Sendable>: Sendable {
    @usableFromInline enum Turn {
        case written(Answer)
        case lead
    }

    @usableFromInline struct Waiter {
        @usableFromInline let item: Item
        @usableFromInline let continuation: CheckedContinuation<Turn, any Error>

        @inlinable init(item: Item, continuation: CheckedContinuation<Turn, any Error>) {
            self.item = item
            self.continuation = continuation
        }
    }

    @usableFromInline struct State {
        /// Items not written yet, each waiting for a batch to take it.
        @usableFromInline var queue: [Waiter] = []
        /// Batches being written, or about to be.
        @usableFromInline var inFlight = 0

        @inlinable init() {}
    }

    /// The batch's writer gave a different number of answers than it was given items.
    @usableFromInline struct AnswersMissing: Error {
        @inlinable init() {}
    }

    @usableFromInline let state: Mutex<State>
    @usableFromInline let limit: Int
    @usableFromInline let parallel: Int
    @usableFromInline let write: @Sendable ([Item]) async throws -> [Answer]

    /// - Parameters:
    ///   - limit: the most items one batch holds.
    ///   - parallel: the most batches in flight at once (each takes a connection).
    ///   - write: writes a batch, all of it or none, and answers each item in order.
    @inlinable package init(limit: Int, parallel: Int, write: @escaping @Sendable ([Item]) async throws -> [Answer]) {
        precondition(limit > 0 && parallel > 0)
        self.state = Mutex(State())
        self.limit = limit
        self.parallel = parallel
        self.write = write
    }

    /// Writes waiting for a batch to take them.
    @inlinable package var waiting: Int { state.withLock { $0.queue.count } }

    /// Returns `item`'s answer once it is written.
    @inlinable package func submit(_ item: Item) async throws -> Answer {
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
        if case .written(let answer) = turn { return answer }
        // This call holds a place in flight: its item goes with what is queued now.
        let waiters = state.withLock { state in
            let taken = Array(state.queue.prefix(limit - 1))
            state.queue.removeFirst(taken.count)
            return taken
        }
        var items = [item]
        items.reserveCapacity(waiters.count + 1)
        for waiter in waiters { items.append(waiter.item) }
        var result: Result<[Answer], any Error>
        do {
            let answers = try await write(items)
            result = answers.count == waiters.count + 1 ? .success(answers) : .failure(AnswersMissing())
        } catch {
            result = .failure(error)
        }
        for index in waiters.indices {
            switch result {
            case .success(let answers): waiters[index].continuation.resume(returning: .written(answers[index + 1]))
            case .failure(let error): waiters[index].continuation.resume(throwing: error)
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
        return try result.get()[0]
    }
}

extension GroupCommit where Answer == Void {
    /// A group commit whose writes answer nothing but success or failure.
    @inlinable package convenience init(limit: Int, parallel: Int, writeAll write: @escaping @Sendable ([Item]) async throws -> Void) {
        self.init(limit: limit, parallel: parallel) { items in
            try await write(items)
            return Array(repeating: (), count: items.count)
        }
    }
}
