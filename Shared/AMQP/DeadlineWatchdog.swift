import Foundation

/// Fails publish calls whose confirm did not come in time, on a thread of its own.
///
/// The connection loop cannot do it: a broker under a resource alarm stops reading, and once the
/// socket's buffers are full the loop's thread is stuck inside `amqp_basic_publish` and expires
/// nothing. Every ticket has the same timeout, so they expire in the order they were added; the
/// thread sleeps until the oldest unresolved one is due, and not at all while there is none.
final class DeadlineWatchdog: @unchecked Sendable {
    // Guarded by `condition`.
    private let condition = NSCondition()
    private var tickets: [PublishTicket] = []
    private var head = 0
    private var running = false
    private var stopped = false

    private let name: String

    init(name: String) {
        self.name = name
    }

    /// Watches `ticket` until it is resolved or its deadline passes.
    func watch(_ ticket: PublishTicket) {
        condition.lock()
        defer { condition.unlock() }
        if stopped { return }
        tickets.append(ticket)
        if !running {
            running = true
            let thread = Thread { [self] in
                ThreadName.nameThisThread(ThreadName.make("amqp-dl-", role: name))
                run()
            }
            thread.start()
        } else if tickets.count - head == 1 {
            condition.signal()  // it was asleep with nothing to watch
        }
    }

    /// Ends the thread; tickets still watched are left to whoever resolves them.
    func stop() {
        condition.lock()
        stopped = true
        condition.signal()
        condition.unlock()
    }

    private func run() {
        condition.lock()
        defer { condition.unlock() }
        while !stopped {
            while head < tickets.count, tickets[head].isResolved { head += 1 }
            if head > 1024, head * 2 > tickets.count {
                tickets.removeFirst(head)
                head = 0
            }
            guard head < tickets.count else {
                tickets.removeAll(keepingCapacity: true)
                head = 0
                condition.wait()
                continue
            }
            let ticket = tickets[head]
            let now = monotonicNanos()
            if ticket.deadline <= now {
                head += 1
                ticket.expire()
            } else {
                _ = condition.wait(until: Date(timeIntervalSinceNow: Double(ticket.deadline - now) / 1e9))
            }
        }
    }
}
