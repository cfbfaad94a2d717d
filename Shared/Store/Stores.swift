/// What every store of one engine shares: whether the engine answers, and which of its errors
/// mean "unavailable for now" rather than "this request is wrong".
public protocol StoreEngine: Sendable {
    /// Whether the store answers a trivial query (for readiness checks).
    func isUsable() async -> Bool
    /// Whether `error` says the store cannot be used right now (locked, full, unreachable, too
    /// slow), so that a caller waits and tries again instead of giving up on the request.
    func isUnavailable(_ error: any Error) -> Bool
}

/// The stores a Herald process uses, all on one engine. The executables open them in one place
/// (`StoreConfiguration.open()`); the services take them as they are.
public struct Stores: Sendable {
    /// Groups, users, devices, roles and principals, read at request and at delivery time.
    public var directory: any DirectoryStore {
        didSet { oneRoundTripGate = nil }
    }
    /// Directory files and membership changes.
    public var writer: any DirectoryWriter
    /// Notification status records.
    public var statuses: any StatusStore {
        didSet { oneRoundTripGate = nil }
    }
    /// `Idempotency-Key` claims.
    public var idempotency: any IdempotencyStore
    /// The sliding-window log behind the throttles.
    public var throttle: any ThrottleLog {
        didSet { oneRoundTripGate = nil }
    }
    /// The admin console's sessions.
    public var sessions: any ConsoleSessionStore
    /// herald-gateway's sent envelopes, cleared tokens and delivery tallies.
    public var pushLedger: any PushLedger
    /// The engine under them all.
    public var engine: any StoreEngine
    /// The engine's own `DispatchGate`, which asks what `directory`, `statuses` and `throttle`
    /// would in one round trip; dropped when one of those is replaced, so that the replacement is
    /// the one asked.
    private var oneRoundTripGate: (any DispatchGate)?

    /// The dispatcher's first step for a request: the engine's one round trip where it has one,
    /// else the separate calls of the stores.
    public var dispatchGate: any DispatchGate {
        oneRoundTripGate ?? SeparateCallsGate(statuses: statuses, throttle: throttle, directory: directory)
    }

    public init(
        directory: any DirectoryStore,
        writer: any DirectoryWriter,
        statuses: any StatusStore,
        idempotency: any IdempotencyStore,
        throttle: any ThrottleLog,
        sessions: any ConsoleSessionStore,
        pushLedger: any PushLedger,
        engine: any StoreEngine,
        dispatchGate: (any DispatchGate)? = nil
    ) {
        self.directory = directory
        self.writer = writer
        self.statuses = statuses
        self.idempotency = idempotency
        self.throttle = throttle
        self.sessions = sessions
        self.pushLedger = pushLedger
        self.engine = engine
        self.oneRoundTripGate = dispatchGate
    }
}
