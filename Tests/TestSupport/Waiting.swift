public import Logging
public import ServiceLifecycle

/// Waits for `condition` to hold, checking every `every`, up to `timeout` or until the test is
/// cancelled (by its time limit); returns whether it held.
public func eventually(
    timeout: Duration = .seconds(20),
    every: Duration = .milliseconds(50),
    _ condition: () async throws -> Bool
) async rethrows -> Bool {
    let deadline = ContinuousClock.now + timeout
    while ContinuousClock.now < deadline, !Task.isCancelled {
        if try await condition() { return true }
        try? await Task.sleep(for: every)
    }
    return try await condition()
}

/// A logger that says nothing below critical, for services under test.
public func quietLogger(_ label: String = "test") -> Logger {
    var logger = Logger(label: label)
    logger.logLevel = .critical
    return logger
}

/// Runs services in one group around `body` (which may trigger the graceful shutdown itself),
/// then shuts them down gracefully, also when `body` throws.
public func running<T: Sendable>(
    _ services: [any Service],
    logger: Logger,
    _ body: (ServiceGroup) async throws -> T
) async throws -> T {
    let group = ServiceGroup(configuration: .init(services: services.map { .init(service: $0) }, logger: logger))
    return try await withThrowingTaskGroup(of: Void.self) { tasks in
        tasks.addTask { try await group.run() }
        do {
            let result = try await body(group)
            await group.triggerGracefulShutdown()
            try await tasks.waitForAll()
            return result
        } catch {
            await group.triggerGracefulShutdown()
            try? await tasks.waitForAll()
            throw error
        }
    }
}
