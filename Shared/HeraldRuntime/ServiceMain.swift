public import AMQP
public import Logging
public import Prometheus
public import ServiceLifecycle

/// What a Herald service reads at start, as `ServiceMain.run` needs it.
public protocol ServiceConfiguration: Sendable {
    /// Reads the `HERALD_*` variables; a bad value throws an error naming the key.
    init(environment: EnvironmentReader) throws
    var logging: LogSettings { get }
    var amqp: AMQPConfiguration { get }
    var shutdown: ShutdownSettings { get }
    /// What the service logs as it starts (never a password).
    var startMetadata: Logger.Metadata { get }
}

/// The start every Herald service makes from `main()`, the same for each:
/// 1. its configuration, read once (a mistake, here or found while building the services: one
///    line naming the key, exit 78);
/// 2. logging and Prometheus set up, and the broker checked (exit 69 or 78, one line);
/// 3. the services `make` builds, run in one group that stops gracefully on SIGTERM or SIGINT
///    within `HERALD_SHUTDOWN_TIMEOUT`, with a `ShutdownSequence` listed last, so it hears the
///    shutdown first (`onShutdown`, then not ready) and ends the process if draining overruns.
/// A failure to build or run the services is logged as critical and exits 1.
///
/// `@concurrent`: called from `main()`, on the main actor, it and `make` would otherwise run
/// there (Herald's async functions run on their caller's executor).
public enum ServiceMain {
    @concurrent public static func run<Configuration: ServiceConfiguration>(
        _ name: String,
        _ type: Configuration.Type,
        onShutdown: @escaping @Sendable () -> Void = {},
        services make: @Sendable (Configuration, Logger, PrometheusCollectorRegistry) async throws -> [any Service]
    ) async {
        let configuration: Configuration
        do {
            configuration = try Configuration(environment: EnvironmentReader.process())
        } catch {
            ServiceExit.configuration.exit("\(name): \(error)")
        }
        configuration.logging.bootstrap()
        let registry = MetricsSetup.bootstrapPrometheus()
        let logger = Logger(label: name)
        do {
            try configuration.amqp.verifyAtStart(service: name, logger: logger)
        } catch {
            error.exit.exit(error.description)
        }
        do {
            let services = try await make(configuration, logger, registry)
            let sequence = ShutdownSequence(
                settings: configuration.shutdown,
                logger: logger,
                onShutdown: onShutdown,
                onOverrun: { ServiceExit.failure.exit() }
            )
            var groupConfiguration = ServiceGroupConfiguration(
                services: (services + [sequence]).map { .init(service: $0) },
                gracefulShutdownSignals: [.sigterm, .sigint],
                logger: logger
            )
            groupConfiguration.maximumGracefulShutdownDuration = configuration.shutdown.timeout
            let group = ServiceGroup(configuration: groupConfiguration)
            logger.info("\(name) starting", metadata: configuration.startMetadata)
            try await group.run()
        } catch let error as ConfigurationError {
            ServiceExit.configuration.exit("\(name): \(error)")
        } catch {
            logger.critical("\(name) stopped", metadata: ["error": "\(error)"])
            ServiceExit.failure.exit()
        }
    }
}
