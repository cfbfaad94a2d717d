import Foundation

/// A wait that ends one of two ways: whoever it waits for resolves it, or a `DeadlineWatchdog`
/// expires it once its deadline has passed. Both may happen at once; the wait resolves once.
public protocol WatchedDeadline: AnyObject, Sendable {
    /// When it is due, in `monotonicNanos()`.
    var deadline: UInt64 { get }
    /// Whether it has its answer already: the watchdog then forgets it.
    var isResolved: Bool { get }
    /// Its deadline passed without an answer: fail it.
    func expire()
}

/// Expires waits whose answer did not come in time, on a thread of its own: the broker's confirms
/// of a publish, a PostgreSQL store call.
///
/// A thread, because whatever should answer may hold its own thread: a broker under a resource
/// alarm stops reading, and once the socket's buffers are full the AMQP connection's thread is
/// stuck inside `amqp_basic_publish`. Nothing per wait: a timer per wait (a sleeping task, say)
/// keeps its memory until its time, whether or not it was cancelled, so at thousands of calls a
/// second it held megabytes.
///
/// Every wait of one watchdog has the same timeout, so they fall due in the order they were added.
/// The thread sleeps until the oldest unresolved one is due, and not at all while there is none;
/// answered waits are dropped from the front as new ones are added.
public final class DeadlineWatchdog: @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var watched: [any WatchedDeadline] = []
    private var head = 0
    private var running = false
    /// The thread waits with nothing to watch, for a signal.
    private var idle = false
    private var stopped = false

    private let threadName: String

    /// - Parameter threadName: the thread's name in `top -H`, perf and /proc (`ThreadName`): at most
    ///   15 bytes are kept.
    public init(threadName: String) {
        self.threadName = threadName
    }

    /// How many waits it holds: those not known to be answered, and any added after them.
    public var count: Int {
        condition.lock()
        defer { condition.unlock() }
        return watched.count - head
    }

    /// Watches `wait` until it is resolved or its deadline passes.
    public func watch(_ wait: any WatchedDeadline) {
        condition.lock()
        defer { condition.unlock() }
        if stopped { return }
        dropAnswered()
        watched.append(wait)
        if !running {
            running = true
            let thread = Thread { [self] in
                ThreadName.nameThisThread(threadName)
                run()
            }
            thread.start()
        } else if idle {
            // Otherwise it sleeps until an earlier deadline than this one, and then finds it.
            condition.signal()
        }
    }

    /// Ends the thread; waits still watched are left to whoever resolves them.
    public func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    /// Forgets the answered waits at the front; with the lock held.
    private func dropAnswered() {
        while head < watched.count, watched[head].isResolved { head += 1 }
        if head == watched.count {
            watched.removeAll(keepingCapacity: true)
            head = 0
        } else if head > 1024, head * 2 > watched.count {
            watched.removeFirst(head)
            head = 0
        }
    }

    private func run() {
        condition.lock()
        defer { condition.unlock() }
        while !stopped {
            dropAnswered()
            guard head < watched.count else {
                idle = true
                condition.wait()
                idle = false
                continue
            }
            let wait = watched[head]
            let now = monotonicNanos()
            if wait.deadline <= now {
                head += 1
                // Outside the lock: failing a wait resumes its caller and, for a store call, cancels
                // its work, whose handlers run on this thread and may watch something new.
                condition.unlock()
                wait.expire()
                condition.lock()
            } else {
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(wait.deadline - now) / 1e9))
            }
        }
    }
}

/// Monotonic nanoseconds, for deadlines.
public func monotonicNanos() -> UInt64 { DispatchTime.now().uptimeNanoseconds }
