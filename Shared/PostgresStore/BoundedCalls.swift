import HeraldCore
import Synchronization

/// Store calls that answer within a bound whatever the server does: a server that answers nothing
/// (frozen, or cut off without a reset) makes a call fail with `PostgresStoreError.timedOut`, and
/// the caller goes on; the call's work is cancelled and left to end when its connection does.
///
/// One watchdog thread keeps every call's deadline, not a timer per call: a sleeping task per call,
/// cancelled once the call answered, kept its memory until its time had come anyway, and ingest on
/// PostgreSQL grew by ~150 MB under wrk (BENCHMARKS.md).
final class BoundedCalls: Sendable {
    /// The longest one call may take.
    let timeout: Duration
    private let timeoutNanos: UInt64
    private let watchdog = DeadlineWatchdog(threadName: "pg-deadlines")

    init(timeout: Duration) {
        self.timeout = timeout
        timeoutNanos = UInt64(max(0, timeout.inSeconds) * 1e9)
    }

    /// `work`'s answer, or `PostgresStoreError.timedOut` once `timeout` has passed without one.
    func answer<Value: Sendable>(_ work: @escaping @Sendable () async throws -> Value) async throws -> Value {
        try await withCheckedThrowingContinuation { continuation in
            let answer = OneAnswer(continuation, deadline: monotonicNanos() + timeoutNanos, timeout: timeout)
            watchdog.watch(answer)
            answer.hold(
                Task {
                    do {
                        answer.give(.success(try await work()))
                    } catch {
                        answer.give(.failure(error))
                    }
                }
            )
        }
    }

    /// How many calls the watchdog holds (those under way, and any that answered after them).
    var watched: Int { watchdog.count }

    /// Ends the watchdog's thread.
    deinit { watchdog.stop() }
}

/// The one answer of a bounded call: the work's or the deadline's, whichever comes first. The other
/// is dropped. Once answered it holds nothing: not the continuation, not the work's task.
private final class OneAnswer<Value: Sendable>: WatchedDeadline {
    private struct State {
        var continuation: CheckedContinuation<Value, any Error>?
        var worker: Task<Void, Never>?

        /// Marks the call answered, and hands out what it held, once.
        mutating func take() -> (CheckedContinuation<Value, any Error>?, Task<Void, Never>?) {
            defer {
                continuation = nil
                worker = nil
            }
            return (continuation, worker)
        }
    }

    private let state: Mutex<State>
    let deadline: UInt64
    private let timeout: Duration

    init(_ continuation: CheckedContinuation<Value, any Error>, deadline: UInt64, timeout: Duration) {
        state = Mutex(State(continuation: continuation))
        self.deadline = deadline
        self.timeout = timeout
    }

    /// Holds the task running the call's work, to cancel at the deadline; cancels it at once if the
    /// call has its answer already.
    func hold(_ worker: Task<Void, Never>) {
        let answered = state.withLock { state in
            if state.continuation != nil { state.worker = worker }
            return state.continuation == nil
        }
        if answered { worker.cancel() }
    }

    var isResolved: Bool { state.withLock { $0.continuation == nil } }

    func give(_ result: Result<Value, any Error>) {
        state.withLock { $0.take() }.0?.resume(with: result)
    }

    func expire() {
        let (continuation, worker) = state.withLock { $0.take() }
        guard let continuation else { return }
        worker?.cancel()
        continuation.resume(throwing: PostgresStoreError.timedOut(timeout))
    }
}
