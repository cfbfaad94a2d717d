import Foundation
import IngestApp
import NIOCore
import NIOPosix
import Testing

/// Ingest's tasks prefer the event loops as their task executor: their work, their child tasks'
/// and what follows a resumption from another thread must all run on the group's loops.
@Suite struct EventLoopTaskExecutorTests {
    /// Nonisolated on purpose: reached from a task that prefers the loops, it runs there too.
    static func onOneOf(_ group: MultiThreadedEventLoopGroup) async -> Bool {
        await Task.yield()
        guard let current = MultiThreadedEventLoopGroup.currentEventLoop else { return false }
        return group.makeIterator().contains { $0 === current }
    }

    @Test func tasksThatPreferTheLoopsRunOnThem() async throws {
        let group = MultiThreadedEventLoopGroup(numberOfThreads: 2)
        #expect(await !Self.onOneOf(group))
        let seen = await withTaskExecutorPreference(EventLoopTaskExecutor(group: group)) { () async -> [Bool] in
            var seen = [await Self.onOneOf(group)]
            seen += await withTaskGroup(of: Bool.self) { children in
                for _ in 0..<8 { children.addTask { await Self.onOneOf(group) } }
                return await children.reduce(into: []) { $0.append($1) }
            }
            // Resumed from a thread that is not a loop's.
            await withCheckedContinuation { continuation in
                Thread.detachNewThread { continuation.resume() }
            }
            seen.append(await Self.onOneOf(group))
            return seen
        }
        #expect(seen == Array(repeating: true, count: 10))
        try await group.shutdownGracefully()
    }
}
