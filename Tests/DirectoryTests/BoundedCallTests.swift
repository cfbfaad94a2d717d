import Foundation
import Synchronization
import TestSupport
import Testing

@testable import PostgresStore

/// Every PostgreSQL store call runs bounded (`BoundedCalls`): it answers within its bound, and once
/// it has answered it holds on to nothing. Ingest makes one such call per send,
/// so anything a call kept would grow a process's memory with every send it served.
@Suite struct BoundedCallTests {
    @Test func aCallThatAnswersLeavesNothingBehind() async throws {
        let freed = Flag()
        do {
            let witness = Witness(freed)
            let answer = try await BoundedCalls(timeout: .seconds(600)).answer { witness.value }
            #expect(answer == 7)
        }
        let released = await eventually(timeout: .seconds(30)) { freed.isSet }
        #expect(released, "the work, its timer and what they captured are freed once the call has answered")
    }

    /// In a process of its own, so that nothing else allocates meanwhile. 100,000 calls that each
    /// kept a timer until its bound (as one sleeping task per call did, ~750 bytes) would grow it
    /// by ~75 MB.
    @Test func callsThatHaveAnsweredHoldNoMemory() async {
        await #expect(processExitsWith: .success, "100,000 answered calls grow the process by less than 16 MB") {
            let calls = BoundedCalls(timeout: .seconds(600))
            let before = residentBytes()
            for _ in 0..<100_000 {
                // Like a round trip to the server: the call's timer is under way before it answers.
                _ = try await calls.answer {
                    for _ in 0..<4 { await Task.yield() }
                    return 1
                }
            }
            let grown = residentBytes() - before
            // The watchdog may still hold the last call: its thread drops it when it next looks.
            exit(grown < 16 << 20 && calls.watched <= 1 ? EXIT_SUCCESS : EXIT_FAILURE)
        }
    }

    @Test func aCallThatTimesOutIsCancelledAndLeavesNothingBehind() async throws {
        let freed = Flag()
        do {
            let witness = Witness(freed)
            await #expect(throws: PostgresStoreError.self) {
                try await BoundedCalls(timeout: .milliseconds(50)).answer {
                    // A server that answers nothing: the work ends only when it is cancelled.
                    try await Task.sleep(for: .seconds(3600))
                    return witness.value
                }
            }
        }
        let released = await eventually(timeout: .seconds(30)) { freed.isSet }
        #expect(released, "the work is cancelled at the bound, and then freed with its timer")
    }
}

/// Set once, from any thread.
private final class Flag: Sendable {
    private let state = Mutex(false)
    var isSet: Bool { state.withLock { $0 } }
    func set() { state.withLock { $0 = true } }
}

/// Something a call's work captures, which says when it is freed.
private final class Witness: Sendable {
    let value = 7
    private let freed: Flag

    init(_ freed: Flag) { self.freed = freed }

    deinit { freed.set() }
}
