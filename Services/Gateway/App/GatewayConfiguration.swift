public import AMQP
public import HeraldRuntime
public import Logging
public import StoreSelection

/// Everything herald-gateway reads from its environment, read once at start.
public struct GatewayConfiguration: ServiceConfiguration {
    public var push: PushSettings
    public var amqp: AMQPConfiguration
    /// The store of the sent-envelope ledger, the directory's push tokens and the statuses.
    public var store: StoreConfiguration
    /// Pushes in flight per platform (and the prefetch of each platform's queue).
    public var concurrency: Int
    /// Push tries (retry queue passes) before an envelope is dead-lettered.
    public var maxAttempts: Int
    public var metricsHost: String
    /// Port of `/metrics` and `/health/*` (0: any free port).
    public var metricsPort: Int
    public var logging: LogSettings
    public var shutdown: ShutdownSettings

    public init(
        push: PushSettings,
        amqp: AMQPConfiguration,
        store: StoreConfiguration = .sqlite(path: ".herald/herald.sqlite"),
        concurrency: Int = 64,
        maxAttempts: Int = 12,
        metricsHost: String = "127.0.0.1",
        metricsPort: Int = 0,
        logging: LogSettings = LogSettings(format: .text, level: .info),
        shutdown: ShutdownSettings = ShutdownSettings()
    ) {
        self.push = push
        self.amqp = amqp
        self.store = store
        self.concurrency = concurrency
        self.maxAttempts = maxAttempts
        self.metricsHost = metricsHost
        self.metricsPort = metricsPort
        self.logging = logging
        self.shutdown = shutdown
    }

    /// Reads `HERALD_*` variables; a bad value throws an error naming the key.
    public var startMetadata: Logger.Metadata {
        [
            "amqp.broker": "\(amqp.redactedDescription)", "store": "\(store.redactedDescription)",
            "apns": "\(push.apns?.baseURL ?? "off")", "fcm": "\(push.fcm?.baseURL ?? "off")",
        ]
    }

    public init(environment: EnvironmentReader) throws {
        self.init(
            push: try PushSettings(environment: environment),
            amqp: try environment.amqp(),
            store: try StoreConfiguration(environment: environment),
            concurrency: try environment.int("HERALD_GATEWAY_CONCURRENCY", default: 64, in: 1...4096),
            maxAttempts: try environment.int("HERALD_GATEWAY_MAX_ATTEMPTS", default: 12, in: 1...1000),
            metricsHost: environment.string("HERALD_GATEWAY_METRICS_HOST", default: "127.0.0.1"),
            metricsPort: try environment.int("HERALD_GATEWAY_METRICS_PORT", default: 9091, in: 0...65535),
            logging: try LogSettings(environment: environment),
            shutdown: try ShutdownSettings(environment: environment, defaultDelaySeconds: 0)
        )
    }
}
