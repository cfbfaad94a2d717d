public import NIOCore

/// Runs the jobs of the tasks that prefer it on SwiftNIO's event loops, as a task executor
/// (SE-0417), so that a task's nonisolated async functions call one another without a hop.
///
/// With only NIO's global-executor hook (`IngestMain`), NIO runs each job as if on the event
/// loop's serial executor. Every entry into a nonisolated async function, and every resumption
/// after an `await`, then asks the runtime to switch to the generic executor, which it cannot do
/// in place: the task is enqueued and run again on the same loop. That was ~95 jobs per send,
/// each ~1,500 instructions of enqueueing, dequeueing and a dynamic cast. A job run here runs on
/// this task executor, which the runtime counts as the generic executor for the task that
/// prefers it, so those switches happen in place.
///
/// A job goes to `group.any()`: the current loop when enqueued from one of the group's threads
/// (a task stays where its connection is), the next loop otherwise.
public final class EventLoopTaskExecutor: TaskExecutor {
    private let group: any EventLoopGroup

    public init(group: any EventLoopGroup) {
        self.group = group
    }

    public func enqueue(_ job: consuming ExecutorJob) {
        let job = UnownedJob(job)
        let executor = asUnownedTaskExecutor()
        group.any().execute { job.runSynchronously(on: executor) }
    }
}
