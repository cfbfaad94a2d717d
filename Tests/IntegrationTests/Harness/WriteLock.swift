import AMQP
import Foundation
import GRDB
import HeraldCore
import LoadApp
import SQLiteStore
import Store
import TestSupport
import Testing

/// Holds SQLite's write lock on a database from this process for a while, on a thread of its own.
final class WriteLock: @unchecked Sendable {
    private let lock = NSLock()
    private var released = false

    init(path: String, seconds: Double) throws {
        let queue = try DatabaseQueue(path: path)
        let taken = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            try? queue.inDatabase { db in
                try db.execute(sql: "BEGIN IMMEDIATE")
                taken.signal()
                Thread.sleep(forTimeInterval: seconds)
                try db.execute(sql: "COMMIT")
            }
            self.lock.withLock { self.released = true }
        }
        taken.wait()
    }

    /// Returns once the lock is released.
    func wait() async {
        _ = await eventually(timeout: .seconds(60)) { self.lock.withLock { self.released } }
    }
}
