import Foundation

/// The wait of one `publish` call for the broker's confirms of all its messages.
///
/// Created by the caller, then touched only by the connection loop's thread,
/// which resumes the continuation exactly once. Hence `@unchecked Sendable`.
final class PublishTicket: @unchecked Sendable {
    private var remaining: Int
    private var continuation: CheckedContinuation<Void, any Error>?
    let deadline: UInt64

    init(count: Int, deadline: UInt64, continuation: CheckedContinuation<Void, any Error>) {
        self.remaining = count
        self.deadline = deadline
        self.continuation = continuation
    }

    var isResolved: Bool { continuation == nil }

    /// One message confirmed; the call returns when all are.
    func confirmOne() {
        guard continuation != nil else { return }
        remaining -= 1
        if remaining == 0 {
            continuation?.resume()
            continuation = nil
        }
    }

    /// The whole call fails; later confirms of its other messages are ignored.
    func fail(_ error: AMQPError) {
        continuation?.resume(throwing: error)
        continuation = nil
    }
}

/// Monotonic nanoseconds, for deadlines.
func monotonicNanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
