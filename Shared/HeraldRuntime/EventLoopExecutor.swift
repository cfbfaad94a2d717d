import NIOCore
import NIOPosix

extension ServiceMain {
    /// Runs every Swift task of the process on SwiftNIO's event loops (`MultiThreadedEventLoopGroup
    /// .singleton`, one thread per core, which Hummingbird, PostgresNIO and AsyncHTTPClient already
    /// use) instead of Swift's own pool.
    ///
    /// Without it a request crosses threads at every step: its bytes are read on an event loop, its
    /// handler runs on a pool thread, its answer is written on the event loop again, and each
    /// crossing is a futex wake-up. With it a task started from an event loop stays on that loop
    /// (`EventLoopGroup.any()` is sticky). Measured on herald-ingest under wrk (BENCHMARKS.md):
    /// ~14% less CPU per send.
    ///
    /// What it asks of Herald's code, which holds today: nothing that runs in a task blocks its
    /// thread for long or waits on another thread. SQLite reads inline are point reads
    /// (`InlineReaders`); writes run on GRDB's own queues; the AMQP client has its own thread.
    ///
    /// Call it first in `main()`, on the main thread, before any task starts. If the runtime's hook
    /// is taken already it does nothing and tasks run on Swift's pool as before.
    public static func runTasksOnEventLoops() {
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
    }
}
