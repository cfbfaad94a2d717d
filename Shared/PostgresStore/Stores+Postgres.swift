public import Store

extension Stores {
    /// Every store on one PostgreSQL database, which processes on any number of hosts share.
    public init(postgres engine: PostgresEngine) {
        self.init(
            directory: PostgresDirectoryStore(database: engine),
            writer: PostgresDirectoryWriter(database: engine),
            statuses: PostgresStatusStore(database: engine),
            idempotency: PostgresIdempotencyStore(database: engine),
            throttle: PostgresThrottleLog(database: engine),
            sessions: PostgresConsoleSessionStore(database: engine),
            pushLedger: PostgresPushLedger(database: engine),
            engine: engine,
            dispatchGate: PostgresDispatchGate(database: engine)
        )
    }
}
