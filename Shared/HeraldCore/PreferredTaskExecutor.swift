import Synchronization

/// The task executor a process's tasks prefer, when it chose one at start: herald-ingest's event
/// loops (`EventLoopTaskExecutor`); nil elsewhere. An unstructured task (`Task { }`) inherits no
/// preference, so the libraries' own tasks that a request waits on (a PostgreSQL store call's
/// bounded work, the pool's `run()`) start with this one: without it, their every async call hopped
/// through ingest's global executor, ~49 jobs per send on PostgreSQL (BENCHMARKS.md).
public enum PreferredTaskExecutor {
    private static let chosen = Mutex<(any TaskExecutor)?>(nil)

    /// The executor chosen at start, or nil.
    public static var current: (any TaskExecutor)? { chosen.withLock { $0 } }

    /// Chooses `executor` for the process; called once, before the first task starts.
    public static func choose(_ executor: (any TaskExecutor)?) {
        chosen.withLock { $0 = executor }
    }
}
