import Foundation
import HeraldCore
import Synchronization

/// The wait of one `publish` call for the broker's confirms of all its messages.
///
/// Three threads may touch it: the caller's (failing it when the loop refuses the command), the
/// connection loop's (claiming it for writing, confirming, failing it) and the deadline watchdog's
/// (expiring it). Its state sits behind a mutex, and the continuation is resumed exactly once.
final class PublishTicket: WatchedDeadline {
    private enum Phase {
        /// Handed to the loop, nothing written yet.
        case queued
        /// The loop has begun writing it: the broker may hold some or all of its messages.
        case written
        /// The caller has its answer.
        case resolved
    }

    private struct State {
        var phase: Phase = .queued
        var remaining: Int
        var continuation: CheckedContinuation<Void, any Error>?

        /// Marks the ticket resolved and hands out its continuation, once.
        mutating func take() -> CheckedContinuation<Void, any Error>? {
            guard phase != .resolved else { return nil }
            phase = .resolved
            defer { continuation = nil }
            return continuation
        }
    }

    private let state: Mutex<State>
    /// When the broker's confirm is due (monotonic nanoseconds).
    let deadline: UInt64

    init(count: Int, deadline: UInt64, continuation: CheckedContinuation<Void, any Error>) {
        self.state = Mutex(State(remaining: count, continuation: continuation))
        self.deadline = deadline
    }

    var isResolved: Bool { state.withLock { $0.phase == .resolved } }

    /// Called by the loop just before it writes the messages: false when the ticket was already
    /// failed (its deadline passed while it waited), and then nothing of it may be sent.
    func claimForWriting() -> Bool {
        state.withLock { state in
            guard state.phase == .queued else { return false }
            state.phase = .written
            return true
        }
    }

    /// One message confirmed; the call returns when all are.
    func confirmOne() {
        let done: CheckedContinuation<Void, any Error>? = state.withLock { state -> CheckedContinuation<Void, any Error>? in
            guard state.phase != .resolved else { return nil }
            state.remaining -= 1
            guard state.remaining == 0 else { return nil }
            return state.take()
        }
        done?.resume()
    }

    /// The whole call fails; later confirms of its other messages are ignored.
    func fail(_ error: AMQPError) {
        state.withLock { $0.take() }?.resume(throwing: error)
    }

    /// Fails the call with `unsent` if nothing of it was written yet, else with `sent` (the broker
    /// may hold it), so a caller can tell "not accepted" from "not confirmed".
    func fail(unsent: AMQPError, sent: AMQPError) {
        let (continuation, wasWritten): (CheckedContinuation<Void, any Error>?, Bool) = state.withLock { state in
            let written = state.phase == .written
            return (state.take(), written)
        }
        continuation?.resume(throwing: wasWritten ? sent : unsent)
    }

    /// The deadline passed without every confirm: a written ticket fails with `confirmTimeout`; one
    /// the loop never got to (stuck writing to a broker that stopped reading) with `stalled`.
    func expire() {
        fail(unsent: .stalled, sent: .confirmTimeout)
    }
}
