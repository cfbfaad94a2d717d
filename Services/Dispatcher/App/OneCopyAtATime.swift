import Synchronization

/// Lets one copy of a request at a time be worked on in this process; later copies of the same
/// notification id wait until it is done.
///
/// Two copies of one request can sit on the queue together: a publish ingest answered 503 for
/// (its confirm came too late, say while a cluster elected a new queue leader) that landed after
/// all, beside the caller's retry with the same `Idempotency-Key`, which carries the same id. The
/// store's status stops a copy that comes after the first is finished (`DispatchGate`); this stops
/// one that comes while the first is still publishing, which would otherwise send every envelope
/// twice. Copies taken by two processes at once are not covered: the envelopes then go out twice,
/// with the same ids.
final class OneCopyAtATime: Sendable {
    /// Per notification id being worked on, the copies waiting for it, oldest first.
    private let waiting = Mutex<[String: [CheckedContinuation<Void, Never>]]>([:])

    /// Returns once no other copy of `id` is being worked on; the caller must `leave(id)` after.
    func enter(_ id: String) async {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let free: Bool = waiting.withLock { waiting in
                guard waiting[id] != nil else {
                    waiting[id] = []
                    return true
                }
                waiting[id]!.append(continuation)
                return false
            }
            if free { continuation.resume() }
        }
    }

    /// Whether no other copy of `id` is being worked on; if so, this one now is, and the caller must
    /// `leave(id)` after.
    func tryEnter(_ id: String) -> Bool {
        waiting.withLock { waiting in
            guard waiting[id] == nil else { return false }
            waiting[id] = []
            return true
        }
    }

    /// The copy of `id` is done: the oldest waiting copy goes on.
    func leave(_ id: String) {
        let next: CheckedContinuation<Void, Never>? = waiting.withLock { waiting in
            guard var queue = waiting[id], !queue.isEmpty else {
                waiting[id] = nil
                return nil
            }
            let first = queue.removeFirst()
            waiting[id] = queue
            return first
        }
        next?.resume()
    }
}
