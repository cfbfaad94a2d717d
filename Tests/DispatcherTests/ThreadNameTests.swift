import Foundation
import HeraldCore
import Testing

/// The names Herald's threads show in `top -H`, perf and /proc: Linux keeps 15 bytes.
struct ThreadNameTests {
    @Test func eachRoleNamesItsThreadByItsLastWord() {
        #expect(ThreadName.make("amqp-", role: "ingest") == "amqp-ingest")
        #expect(ThreadName.make("amqp-", role: "dispatcher-publish") == "amqp-publish")
        #expect(ThreadName.make("amqp-", role: "dispatcher-consume") == "amqp-consume")
        #expect(ThreadName.make("amqp-", role: "gateway-android") == "amqp-android")
    }

    @Test func aPublishersDeadlineWatchdogIsNamedAfterItsRole() {
        #expect(ThreadName.make("amqp-dl-", role: "dispatcher-publish") == "amqp-dl-publish")
        #expect(ThreadName.make("amqp-dl-", role: "ingest") == "amqp-dl-ingest")
    }

    @Test func aLongRoleIsCutToWhatLinuxKeeps() {
        let name = ThreadName.make("amqp-", role: "bench-envelopecollector")
        #expect(name == "amqp-envelopeco")
        #expect(name.utf8.count == 15)
    }

    /// The name is the thread's own, at once: read back from /proc by the thread itself, every time
    /// (Foundation's setter, from inside a new thread, lost it about once in 300).
    @Test func aThreadNamedByItselfShowsItsNameAtOnce() {
        var wrong: [String] = []
        for index in 0..<300 {
            let name = "herald-\(index)"
            let read = ThreadRead()
            let thread = Thread {
                ThreadName.nameThisThread(name)
                read.finish(try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8))
            }
            thread.start()
            let comm = read.wait()?.trimmingCharacters(in: .newlines) ?? ""
            if comm != name { wrong.append(comm) }
        }
        #expect(wrong.isEmpty, "\(wrong)")
    }
}

/// What a thread read, handed to the test waiting for it.
private final class ThreadRead: @unchecked Sendable {
    private let done = DispatchSemaphore(value: 0)
    private var value: String?

    func finish(_ value: String?) {
        self.value = value
        done.signal()
    }

    func wait() -> String? {
        done.wait()
        return value
    }
}
