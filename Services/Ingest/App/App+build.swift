public import Hummingbird
public import Directory
public import Logging
public import Prometheus
public import Auth
public import HeraldRuntime

/// The parts herald-ingest is built from; tests pass their own.
public struct IngestDependencies: Sendable {
    public var database: HeraldDatabase
    public var directory: any DirectoryStore
    public var statuses: any StatusStore
    public var idempotency: any IdempotencyStore
    public var publisher: any RequestPublisher
    public var tokens: TokenService
    public var registry: PrometheusCollectorRegistry?
    public var shutdown: ShutdownFlag
    public var logger: Logger
    /// What the console shows of the throttles (the dispatcher enforces them).
    public var throttle: ThrottleSettings
    public var throttleLog: any ThrottleLog
    public var console: ConsoleSettings

    public init(database: HeraldDatabase, publisher: any RequestPublisher, tokens: TokenService,
                registry: PrometheusCollectorRegistry? = nil, shutdown: ShutdownFlag = ShutdownFlag(), logger: Logger,
                throttle: ThrottleSettings = ThrottleSettings(), console: ConsoleSettings = ConsoleSettings()) {
        self.database = database
        self.directory = SQLiteDirectoryStore(database: database)
        self.statuses = SQLiteStatusStore(database: database)
        self.idempotency = SQLiteIdempotencyStore(database: database)
        self.publisher = publisher
        self.tokens = tokens
        self.registry = registry
        self.shutdown = shutdown
        self.logger = logger
        self.throttle = throttle
        self.throttleLog = SQLiteThrottleLog(database: database)
        self.console = console
    }
}

/// The router of every ingest route.
public func buildRouter(_ deps: IngestDependencies) -> Router<BasicRequestContext> {
    let router = Router(context: BasicRequestContext.self)
    router.add(middleware: ProblemMiddleware(logger: deps.logger))
    let exchange = HTTPExchange(logger: deps.logger)
    let authenticator = Authenticator(tokens: deps.tokens, directory: deps.directory)
    let sender = SendService(directory: deps.directory, statuses: deps.statuses, idempotency: deps.idempotency,
                             publisher: deps.publisher)
    let route = SendRoute(exchange: exchange, authenticator: authenticator, sender: sender)
    NotificationsController(route: route, statuses: deps.statuses).addRoutes(to: router)
    GraphController(route: route).addRoutes(to: router)
    ConsoleController(
        sender: sender, authenticator: authenticator, sessions: ConsoleSessionStore(database: deps.database),
        directory: deps.directory, statuses: deps.statuses, throttleLog: deps.throttleLog, throttle: deps.throttle,
        settings: deps.console, logger: deps.logger
    ).addRoutes(to: router)
    OperationsController(publisher: deps.publisher, database: deps.database, registry: deps.registry, shutdown: deps.shutdown)
        .addRoutes(to: router)
    return router
}

/// The HTTP application on `host:port`.
public func buildApplication(_ deps: IngestDependencies, host: String, port: Int, idleTimeoutSeconds: Int = 30) -> some ApplicationProtocol {
    Application(
        router: buildRouter(deps),
        server: .http1(configuration: .init(idleTimeout: .seconds(Int64(idleTimeoutSeconds)))),
        configuration: .init(address: .hostname(host, port: port), serverName: "herald-ingest"),
        logger: deps.logger)
}
