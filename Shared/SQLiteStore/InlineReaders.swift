import Foundation
import GRDB
import Synchronization

/// A few read-only connections that run a short read on the caller's own thread.
///
/// `DatabasePool.read` hands each read to a reader's dispatch queue and resumes the caller when it
/// is done: two thread switches around a read of a few microseconds, at every send. Here a read
/// takes an idle connection and runs at once where it was called. It never waits for one: when
/// every connection is busy it returns nil, and the caller reads through the pool as before. So a
/// thread that runs tasks (Swift's pool, or in ingest an event loop) is never blocked waiting on
/// another (the deadlock blocking reads caused once on two cores); it is only busy for the read.
/// Only for short point reads, never a scan.
final class InlineReaders: Sendable {
    private let idle: Mutex<[DatabaseQueue]>

    /// - Parameter count: connections; more than the threads that call at once is wasted.
    init(path: String, count: Int, configuration base: Configuration) throws {
        var configuration = base
        configuration.readonly = true
        configuration.label = "herald-inline-read"
        // Pages are read with pread, not through a memory map (`mmap_size`): SQLite drops a
        // connection's whole map at its first read after another connection's commit, so at load
        // the map was unmapped and faulted in again many times a second. Alternated builds under
        // wrk: 0.238 ms of ingest CPU per send without the map, 0.263 with it (BENCHMARKS.md).
        idle = Mutex(try (0..<count).map { _ in try DatabaseQueue(path: path, configuration: configuration) })
    }

    /// `body` in a read transaction on the calling thread, or nil when no connection is idle. The
    /// connections are read-only: a write in `body` fails.
    func read<T>(_ body: (Database) throws -> T) throws -> T? {
        guard let connection = idle.withLock({ $0.popLast() }) else { return nil }
        defer { idle.withLock { $0.append(connection) } }
        return try connection.inDatabase { db in try db.transaction(.deferred) { try body(db) } }
    }
}
