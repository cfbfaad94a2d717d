public import AMQP
public import Console
import Foundation
public import HeraldRuntime
public import IngestCore
public import Logging
import NIOCore
public import StoreSelection

/// Everything herald-ingest reads from its environment, read once at start.
public struct IngestConfiguration: ServiceConfiguration {
    public var host: String
    public var port: Int
    /// Where the stores live (`HERALD_DB_PATH`).
    public var store: StoreConfiguration
    public var amqp: AMQPConfiguration
    /// HS256 with `HERALD_JWT_SECRET`, or an identity provider's JWKS (`HERALD_JWKS_PATH`/`_URL`).
    public var tokens: TokenVerification
    public var logging: LogSettings
    /// Milliseconds a publish waits for the broker's confirm before answering 503 (`HERALD_CONFIRM_TIMEOUT_MS`).
    public var confirmTimeoutMillis: Int
    /// How long to keep serving once unready, and how long draining may take, on SIGTERM.
    public var shutdown: ShutdownSettings
    /// Seconds a connection may send nothing (idle, or stalled part-way through a request) before
    /// ingest closes it, so slow or stuck clients cannot hold connections forever.
    public var idleTimeoutSeconds: Int = 30
    /// The throttles the dispatcher enforces, which the console shows what is left of.
    public var throttle = ThrottleSettings()
    public var console = ConsoleSettings()
    /// Per-caller sends per second and burst (`HERALD_INGEST_RATE`, `HERALD_INGEST_BURST`); nil: off.
    public var rateLimit: CallerRateLimit?
    /// HTTPS on ingest's own listener (`HERALD_HTTP_TLS_CERT`, `HERALD_HTTP_TLS_KEY`); nil: plain HTTP.
    public var httpTLS: HTTPTLS?
    /// The event loops (threads) that serve HTTP and run ingest's tasks (`HERALD_INGEST_EVENT_LOOPS`).
    public var eventLoops = IngestConfiguration.defaultEventLoops

    public init(
        host: String = "127.0.0.1",
        port: Int = 8080,
        store: StoreConfiguration = .sqlite(path: ".herald/herald.sqlite"),
        amqp: AMQPConfiguration,
        tokens: TokenVerification,
        logging: LogSettings = LogSettings(format: .text, level: .info),
        confirmTimeoutMillis: Int = 1500,
        shutdown: ShutdownSettings = ShutdownSettings()
    ) {
        self.host = host
        self.port = port
        self.store = store
        self.amqp = amqp
        self.tokens = tokens
        self.logging = logging
        self.confirmTimeoutMillis = confirmTimeoutMillis
        self.shutdown = shutdown
    }

    /// Reads `HERALD_*` variables; a bad value throws an error naming the key.
    public init(environment: EnvironmentReader) throws {
        host = environment.string("HERALD_HTTP_HOST", default: "127.0.0.1")
        port = try environment.int("HERALD_HTTP_PORT", default: 8080, in: 1...65535)
        store = try StoreConfiguration(environment: environment)
        amqp = try environment.amqp()
        tokens = try TokenVerification.fromEnvironment(environment)
        logging = try LogSettings(environment: environment)
        confirmTimeoutMillis = try environment.int("HERALD_CONFIRM_TIMEOUT_MS", default: 1500, in: 100...60_000)
        shutdown = try ShutdownSettings(environment: environment, defaultDelaySeconds: 2)
        idleTimeoutSeconds = try environment.int("HERALD_HTTP_IDLE_TIMEOUT", default: 30, in: 1...3600)
        throttle = try ThrottleSettings(environment: environment)
        httpTLS = try HTTPTLS(environment: environment)
        console = try ConsoleSettings(environment: environment, https: httpTLS != nil)
        rateLimit = try Self.rateLimit(environment)
        eventLoops = try Self.eventLoops(environment)
    }

    /// `HERALD_INGEST_EVENT_LOOPS`. `main` reads it before anything else, because NIO's event loops
    /// are made once, at their first use; a bad value stops ingest when the whole configuration is read.
    public static func eventLoops(_ environment: EnvironmentReader) throws(ConfigurationError) -> Int {
        try environment.int("HERALD_INGEST_EVENT_LOOPS", default: defaultEventLoops, in: 1...256)
    }

    /// Half the cores this process may use (NIO counts a container's CPU limit), at least one.
    ///
    /// Ingest shares its cores with the broker, a dispatcher and the callers' load: on two shared cores,
    /// one loop used 9–17% less CPU per send than two at the same rate, under wrk and under herald-load
    /// (BENCHMARKS.md). Every task of a request stays on the loop that read it, so fewer loops mean
    /// fewer threads waking one another, and more connections served per wake-up.
    public static var defaultEventLoops: Int { max(1, System.coreCount / 2) }

    public var startMetadata: Logger.Metadata {
        [
            "http.address": "\(httpTLS == nil ? "http" : "https")://\(host):\(port)", "amqp.broker": "\(amqp.redactedDescription)",
            "store": "\(store.redactedDescription)", "auth": "\(tokens.description)",
            "http.event_loops": "\(eventLoops)",
        ]
    }

    /// `HERALD_INGEST_RATE` (sends per second per caller, decimals allowed; unset or 0: no limit)
    /// and `HERALD_INGEST_BURST` (default: the rate, rounded up).
    static func rateLimit(_ environment: EnvironmentReader) throws(ConfigurationError) -> CallerRateLimit? {
        guard let text = environment.optional("HERALD_INGEST_RATE") else { return nil }
        guard let rate = Double(text.trimmingCharacters(in: .whitespaces)), rate.isFinite, (0...1_000_000).contains(rate) else {
            throw ConfigurationError(
                key: "HERALD_INGEST_RATE",
                problem: "must be sends per second from 0 (no limit) to 1000000, got \"\(text)\""
            )
        }
        guard rate > 0 else { return nil }
        let burst = try environment.int("HERALD_INGEST_BURST", default: max(1, Int(rate.rounded(.up))), in: 1...1_000_000)
        return CallerRateLimit(perSecond: rate, burst: burst)
    }
}
