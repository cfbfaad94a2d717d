import NIOCore
import NIOPosix

extension ServiceMain {
    /// Runs every Swift task of the process on SwiftNIO's event loops (`MultiThreadedEventLoopGroup
    /// .singleton`, one thread per core, which Hummingbird, PostgresNIO and AsyncHTTPClient already
    /// use) instead of Swift's own pool.
    ///
    /// For herald-ingest, whose work arrives on those loops: without it a request crosses threads at
    /// every step (its bytes are read on an event loop, its handler runs on a pool thread, its answer
    /// is written on the event loop again), each crossing a futex wake-up. With it a task started
    /// from an event loop stays on that loop (`EventLoopGroup.any()` is sticky). Measured under wrk,
    /// alternating builds: ~14% less CPU per send (BENCHMARKS.md).
    ///
    /// Not for a service whose tasks are mostly resumed from threads of its own (the AMQP
    /// connection's, GRDB's queues): each such resume then wakes an event loop through its eventfd.
    /// The dispatcher used ~20% more CPU per send with it at peak, and herald-gateway was no better.
    ///
    /// What it asks of the code, which holds today: nothing that runs in a task blocks its thread for
    /// long or waits on another thread. SQLite reads inline are point reads (`InlineReaders`); writes
    /// run on GRDB's own queues; the AMQP client has its own thread.
    ///
    /// Call it first in `main()`, on the main thread, before any task starts. If the runtime's hook
    /// is taken already it does nothing and tasks run on Swift's pool as before.
    public static func runTasksOnEventLoops() {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
