import Foundation
import GRDB
import Synchronization

/// A few read-only connections that run a short read on the caller's own thread.
///
/// `DatabasePool.read` hands each read to a reader's dispatch queue and resumes the caller when it
/// is done: two thread switches around a read of a few microseconds, at every send. Here a read
/// takes an idle connection and runs at once where it was called. It never waits for one: when
/// every connection is busy it returns nil, and the caller reads through the pool as before. So a
/// cooperative thread is never blocked waiting on another (the deadlock blocking reads caused once
/// on two cores); it is only busy for the read itself. Only for short point reads, never a scan.
final class InlineReaders: Sendable {
    private let idle: Mutex<[DatabaseQueue]>

    /// How much of the file the inline readers map (SQLite's `mmap_size`): address space; only the
    /// pages read become resident.
    static let mappedBytes = 1 << 30

    /// - Parameter count: connections; more than the threads that call at once is wasted.
    init(path: String, count: Int, configuration base: Configuration) throws {
        var configuration = base
        configuration.readonly = true
        configuration.label = "herald-inline-read"
        // Read pages through a memory map instead of a pread each: every write by any process
        // empties the other connections' page caches, so at load each read transaction read its
        // pages again with system calls (3% of ingest's CPU at peak). Only here: the mapped pages a
        // process touches count in its resident memory, and the pool's connections scan whole
        // groups in a fan-out (a map on them put 47 MB more in the dispatcher's, all file pages).
        configuration.prepareDatabase { db in try db.execute(sql: "PRAGMA mmap_size = \(Self.mappedBytes)") }
        idle = Mutex(try (0..<count).map { _ in try DatabaseQueue(path: path, configuration: configuration) })
    }

    /// `body` in a read transaction on the calling thread, or nil when no connection is idle.
    func read<T>(_ body: (Database) throws -> T) throws -> T? {
        guard let connection = idle.withLock({ $0.popLast() }) else { return nil }
        defer { idle.withLock { $0.append(connection) } }
        return try connection.read(body)
    }
}
