import AMQP
import Auth
import HeraldRuntime
import IngestApp
import NIOCore
import NIOPosix

/// herald-ingest: validates, authorizes and durably enqueues custom notifications.
@main
struct IngestMain {
    static func main() async {
        // Every Swift task of ingest runs on SwiftNIO's event loops (`MultiThreadedEventLoopGroup
        // .singleton`, shared with Hummingbird, PostgresNIO and AsyncHTTPClient)
        // instead of Swift's own pool. Ingest's work arrives on those loops; on the pool a request
        // crossed threads at every step (read on a loop, handled on a pool thread, answered on the loop
        // again), a futex wake-up each. A task started on a loop now stays there (`any()` is sticky):
        // ~14% less CPU per send under wrk, alternating builds (BENCHMARKS.md).
        //
        // NIO runs such a job as if on the loop's serial executor, so each call into a `@concurrent`
        // async function, and each return from one to a caller that runs on its own caller's
        // executor, is a hop through the loop's queue: ~70 per send, at the libraries' functions,
        // since Herald's own run on their caller's executor (`NonisolatedNonsendingByDefault` in
        // Package.swift; it removed ~20 hops per send, BENCHMARKS.md run 12). Preferring the loops
        // as a task executor instead (SE-0417) removes them all and a quarter of ingest's instructions,
        // but cost more CPU per send under wrk, twice tried: requests then reach the publisher one at
        // a time, each waking the AMQP thread and the broker (BENCHMARKS.md, run 10). With the
        // publisher's wake deferred to the end of the loop's turn, so that they leave together, it
        // was no cheaper and its HTTP p99 worse (runs 11 and 13).
        //
        // Only here: the dispatcher's and the gateway's tasks are mostly resumed from their own threads
        // (the AMQP connection's, GRDB's queues), and each such resume would wake a loop through its
        // eventfd (the dispatcher used ~20% more CPU per send at peak, the gateway was no better).
        //
        // It asks that nothing in a task blocks its thread for long or waits on another thread, which
        // holds: inline SQLite reads are point reads (`InlineReaders`), writes run on GRDB's queues,
        // the AMQP client has its own thread. First in `main()`, on the main thread, before any task
        // starts; if the runtime's hook is taken already, tasks run on Swift's pool as before.
        //
        // How many loops: `HERALD_INGEST_EVENT_LOOPS`, read here because the group is made at its
        // first use. A value that does not parse leaves NIO's default for the moment: reading the
        // whole configuration below refuses it, naming the key (exit 78), before anything is served.
        if let loops = try? IngestConfiguration.eventLoops(EnvironmentReader()) {
            NIOSingletons.groupLoopCountSuggestion = loops
        }
        NIOSingletons.unsafeTryInstallSingletonPosixEventLoopGroupAsConcurrencyGlobalExecutor()
        // Set first when a shutdown begins: /health/ready turns 503 before the listener closes.
        let shutdown = ShutdownFlag()
        await ServiceMain.run("herald-ingest", IngestConfiguration.self, onShutdown: shutdown.set) { configuration, logger, registry in
            // First: a JWKS file that cannot be used is a configuration mistake (exit 78).
            let tokens = try await makeTokenVerifier(configuration.tokens, logger: logger)
            let stores = try await configuration.store.open(logger: logger)
            let publisher = try AMQPPublisher(
                configuration: configuration.amqp,
                topology: Topology(),
                confirmTimeout: .milliseconds(configuration.confirmTimeoutMillis),
                name: "ingest",
                // A copy of a request is harmless: the dispatcher works on one copy of an id.
                ridesOutFailover: true,
                logger: logger
            )
            let deps = IngestDependencies(
                stores: stores,
                publisher: publisher,
                tokens: tokens,
                registry: registry,
                shutdown: shutdown,
                logger: logger,
                throttle: configuration.throttle,
                console: configuration.console,
                rateLimit: configuration.rateLimit
            )
            let app = try buildApplication(
                deps,
                host: configuration.host,
                port: configuration.port,
                idleTimeoutSeconds: configuration.idleTimeoutSeconds,
                tls: configuration.httpTLS
            )
            return [PublisherService(publisher: publisher, logger: logger), app]
        }
    }
}
