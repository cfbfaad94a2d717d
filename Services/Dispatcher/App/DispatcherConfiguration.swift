public import AMQP
import HeraldCore
public import HeraldRuntime
public import Logging
public import StoreSelection

/// Everything herald-dispatcher reads from its environment, read once at start.
public struct DispatcherConfiguration: ServiceConfiguration {
    /// Where the stores live (`HERALD_DB_PATH`).
    public var store: StoreConfiguration
    public var amqp: AMQPConfiguration
    /// The throttle limits, window and policy.
    public var throttle: ThrottleSettings
    /// Seconds a resolved group membership may be reused (0: resolve every time).
    public var membershipCacheTTL: Int
    /// Seconds an envelope stays deliverable.
    public var envelopeTTL: Int
    /// Unacknowledged deliveries this worker holds.
    public var prefetch: Int
    /// Requests this worker processes at once one by one, and the most device sends in one batch.
    public var concurrency: Int
    /// Envelopes per confirmed publish batch.
    public var batchSize: Int
    /// Port of `/metrics` and `/health/*` (0: any free port).
    public var metricsPort: Int
    public var metricsHost: String
    public var logging: LogSettings
    /// How long draining may take on SIGTERM (`HERALD_SHUTDOWN_TIMEOUT`).
    public var shutdown: ShutdownSettings
    /// The pause before a failed request is rejected back to the queue, doubled per attempt
    /// (at most 5 s). Not configurable from the environment; tests shorten it.
    public var retryBaseDelay: Duration = .milliseconds(250)
    /// Days a notification's status record and audit trail are kept (`HERALD_AUDIT_RETENTION_DAYS`).
    public var auditRetentionDays = 90

    public init(
        store: StoreConfiguration = .sqlite(path: ".herald/herald.sqlite"),
        amqp: AMQPConfiguration,
        throttle: ThrottleSettings = ThrottleSettings(),
        membershipCacheTTL: Int = 60,
        envelopeTTL: Int = 86_400,
        prefetch: Int = 100,
        concurrency: Int = 16,
        batchSize: Int = 1000,
        metricsPort: Int = 0,
        metricsHost: String = "127.0.0.1",
        logging: LogSettings = LogSettings(format: .text, level: .info),
        shutdown: ShutdownSettings = ShutdownSettings()
    ) {
        self.store = store
        self.amqp = amqp
        self.throttle = throttle
        self.membershipCacheTTL = membershipCacheTTL
        self.envelopeTTL = envelopeTTL
        self.prefetch = prefetch
        self.concurrency = concurrency
        self.batchSize = batchSize
        self.metricsPort = metricsPort
        self.metricsHost = metricsHost
        self.logging = logging
        self.shutdown = shutdown
    }

    /// Reads `HERALD_*` variables; a bad value throws an error naming the key.
    public var startMetadata: Logger.Metadata {
        ["amqp.broker": "\(amqp.redactedDescription)", "store": "\(store.redactedDescription)"]
    }

    public init(environment: EnvironmentReader) throws {
        let retention = try environment.int("HERALD_AUDIT_RETENTION_DAYS", default: 90, in: 1...36_500)
        self.init(
            store: try StoreConfiguration(environment: environment),
            amqp: try environment.amqp(),
            throttle: try ThrottleSettings(environment: environment),
            membershipCacheTTL: try environment.int("HERALD_MEMBERSHIP_CACHE_TTL", default: 60, in: 0...86_400),
            envelopeTTL: try environment.int("HERALD_ENVELOPE_TTL", default: 86_400, in: 1...2_419_200),
            prefetch: try environment.int("HERALD_PREFETCH", default: 100, in: 1...65_535),
            concurrency: try environment.int("HERALD_DISPATCH_CONCURRENCY", default: 16, in: 1...1024),
            batchSize: try environment.int("HERALD_PUBLISH_BATCH", default: 1000, in: 1...100_000),
            metricsPort: try environment.int("HERALD_DISPATCHER_METRICS_PORT", default: 9090, in: 0...65535),
            metricsHost: environment.string("HERALD_DISPATCHER_METRICS_HOST", default: "127.0.0.1"),
            logging: try LogSettings(environment: environment),
            shutdown: try ShutdownSettings(environment: environment, defaultDelaySeconds: 0)
        )
        auditRetentionDays = retention
    }
}
