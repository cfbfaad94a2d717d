public import Auth
public import Console
public import HeraldRuntime
public import Hummingbird
import HummingbirdCore
import HummingbirdTLS
public import IngestCore
public import Logging
public import Prometheus
public import Store

/// The parts herald-ingest is built from; tests pass their own.
public struct IngestDependencies: Sendable {
    /// Every store, on the engine the executable chose.
    public var stores: Stores
    public var publisher: any RequestPublisher
    /// Verifies bearer tokens: `TokenService` (HS256) or `JWKSVerifier`.
    public var tokens: any BearerTokenVerifier
    public var registry: PrometheusCollectorRegistry?
    public var shutdown: ShutdownFlag
    public var logger: Logger
    /// What the console shows of the throttles (the dispatcher enforces them).
    public var throttle: ThrottleSettings
    public var console: ConsoleSettings
    /// Per-caller sends per second (`HERALD_INGEST_RATE`); nil: no limit.
    public var rateLimit: CallerRateLimit?

    public init(
        stores: Stores,
        publisher: any RequestPublisher,
        tokens: any BearerTokenVerifier,
        registry: PrometheusCollectorRegistry? = nil,
        shutdown: ShutdownFlag = ShutdownFlag(),
        logger: Logger,
        throttle: ThrottleSettings = ThrottleSettings(),
        console: ConsoleSettings = ConsoleSettings(),
        rateLimit: CallerRateLimit? = nil
    ) {
        self.stores = stores
        self.publisher = publisher
        self.tokens = tokens
        self.registry = registry
        self.shutdown = shutdown
        self.logger = logger
        self.throttle = throttle
        self.console = console
        self.rateLimit = rateLimit
    }
}

/// The router of every ingest route: the API (`/v1`, `/deviceManagement`) behind bearer
/// authentication, the console (`/console`) behind its session, and the operations routes,
/// all inside `ErrorMiddleware`.
public func buildRouter(_ deps: IngestDependencies) -> Router<IngestRequestContext> {
    let router = Router(context: IngestRequestContext.self)
    router.add(middleware: ErrorMiddleware())
    let stores = deps.stores
    let authenticator = Authenticator(tokens: deps.tokens, directory: stores.directory)
    let sender = SendService(
        directory: stores.directory,
        statuses: stores.statuses,
        idempotency: stores.idempotency,
        publisher: deps.publisher,
        rateLimit: deps.rateLimit
    )

    let bearer = BearerAuthenticator(authenticator: authenticator)
    NotificationsController(sender: sender, statuses: stores.statuses)
        .addRoutes(to: router.group("v1").add(middleware: bearer))
    GraphController(sender: sender)
        .addRoutes(to: router.group("deviceManagement").add(middleware: bearer))
    ConsoleController(
        sender: sender,
        authenticator: authenticator,
        sessions: stores.sessions,
        directory: stores.directory,
        statuses: stores.statuses,
        throttleLog: stores.throttle,
        throttle: deps.throttle,
        settings: deps.console
    ).addRoutes(to: router)
    OperationsController(publisher: deps.publisher, store: stores.engine, registry: deps.registry, shutdown: deps.shutdown)
        .addRoutes(to: router)
    return router
}

/// The HTTP application on `host:port`.
public func buildApplication(
    _ deps: IngestDependencies,
    host: String,
    port: Int,
    idleTimeoutSeconds: Int = 30,
    tls: HTTPTLS? = nil
) throws -> some ApplicationProtocol {
    let http = HTTPServerBuilder.http1(configuration: .init(idleTimeout: .seconds(Int64(idleTimeoutSeconds))))
    return Application(
        router: buildRouter(deps),
        server: try tls.map { try HTTPServerBuilder.tls(http, tlsConfiguration: $0.configuration) } ?? http,
        configuration: .init(address: .hostname(host, port: port), serverName: "herald-ingest"),
        logger: deps.logger
    )
}
