import Store
import Synchronization
import Testing

/// Group commit: concurrent writes go together, nothing waits for a batch to fill, and a batch's
/// error reaches every caller in it.
@Suite struct GroupCommitTests {
    /// A write that records its batches and, while `held`, waits before answering.
    final class Writes: Sendable {
        let batches = Mutex<[[Int]]>([])
        let held = Mutex(true)
        let failing = Mutex<Set<Int>>([])

        struct Refused: Error {}

        func write(_ items: [Int]) async throws {
            batches.withLock { $0.append(items) }
            while held.withLock({ $0 }) { try await Task.sleep(for: .milliseconds(5)) }
            if !failing.withLock({ $0 }).isDisjoint(with: items) { throw Refused() }
        }

        var count: Int { batches.withLock { $0.count } }
    }

    @Test func writesArrivingDuringAWriteGoTogetherInTheNextOnes() async throws {
        let writes = Writes()
        let commit = GroupCommit<Int, Void>(limit: 4, parallel: 1, writeAll: { try await writes.write($0) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { try await commit.submit(0) }
            // The first goes at once, alone; the next ten queue while it is held.
            while writes.count < 1 { try await Task.sleep(for: .milliseconds(5)) }
            for item in 1...10 { group.addTask { try await commit.submit(item) } }
            while commit.waiting < 10 { try await Task.sleep(for: .milliseconds(5)) }
            #expect(writes.count == 1, "nothing else is written while the one write in flight is held")
            writes.held.withLock { $0 = false }
            try await group.waitForAll()
        }
        let batches = writes.batches.withLock { $0 }
        #expect(batches.first == [0])
        #expect(batches.dropFirst().allSatisfy { $0.count <= 4 })
        #expect(batches.count == 4, "ten queued items in batches of at most four: three batches after the first")
        #expect(batches.flatMap { $0 }.sorted() == Array(0...10), "every item once")
    }

    @Test func eachCallerGetsTheAnswerToItsOwnItem() async throws {
        let writes = Writes()
        let commit = GroupCommit<Int, String>(limit: 8, parallel: 1) { items in
            try await writes.write(items)
            return items.map { "answer \($0)" }
        }
        let answers = try await withThrowingTaskGroup(of: (Int, String).self) { group in
            group.addTask { (0, try await commit.submit(0)) }
            while writes.count < 1 { try await Task.sleep(for: .milliseconds(5)) }
            for item in 1...6 { group.addTask { (item, try await commit.submit(item)) } }
            while commit.waiting < 6 { try await Task.sleep(for: .milliseconds(5)) }
            writes.held.withLock { $0 = false }
            return try await group.reduce(into: [Int: String]()) { $0[$1.0] = $1.1 }
        }
        #expect(writes.batches.withLock { $0 }.map(\.count) == [1, 6], "six answered from one batch")
        #expect(answers == Dictionary(uniqueKeysWithValues: (0...6).map { ($0, "answer \($0)") }))
    }

    @Test func severalBatchesMayBeInFlight() async throws {
        let writes = Writes()
        let commit = GroupCommit<Int, Void>(limit: 100, parallel: 3, writeAll: { try await writes.write($0) })
        try await withThrowingTaskGroup(of: Void.self) { group in
            for item in 0..<3 { group.addTask { try await commit.submit(item) } }
            while writes.count < 3 { try await Task.sleep(for: .milliseconds(5)) }
            for item in 3..<8 { group.addTask { try await commit.submit(item) } }
            while commit.waiting < 5 { try await Task.sleep(for: .milliseconds(5)) }
            #expect(writes.count == 3, "no fourth batch while three are in flight")
            writes.held.withLock { $0 = false }
            try await group.waitForAll()
        }
        let batches = writes.batches.withLock { $0 }
        #expect(batches.prefix(3).allSatisfy { $0.count == 1 })
        #expect(batches.flatMap { $0 }.sorted() == Array(0..<8))
    }

    @Test func aFailedBatchFailsEachOfItsCallersAndLaterWritesGoOn() async throws {
        let writes = Writes()
        writes.failing.withLock { $0 = [2] }
        let commit = GroupCommit<Int, Void>(limit: 10, parallel: 1, writeAll: { try await writes.write($0) })
        let outcomes = try await withThrowingTaskGroup(of: (Int, Bool).self) { group in
            group.addTask { (0, (try? await commit.submit(0)) != nil) }
            while writes.count < 1 { try await Task.sleep(for: .milliseconds(5)) }
            for item in 1...3 { group.addTask { (item, (try? await commit.submit(item)) != nil) } }
            while commit.waiting < 3 { try await Task.sleep(for: .milliseconds(5)) }
            writes.held.withLock { $0 = false }
            return try await group.reduce(into: [Int: Bool]()) { $0[$1.0] = $1.1 }
        }
        // 1, 2 and 3 were one batch, which item 2 made fail.
        #expect(outcomes == [0: true, 1: false, 2: false, 3: false])
        try await commit.submit(4)
        #expect(writes.batches.withLock { $0.last } == [4])
    }
}
