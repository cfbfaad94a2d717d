public import Store

extension HeraldDatabase: StoreEngine {
    public func isUnavailable(_ error: any Error) -> Bool { Self.isUnavailable(error) }
}

extension Stores {
    /// Every store on the SQLite file the processes of one host share.
    public init(sqlite database: HeraldDatabase) {
        self.init(
            directory: SQLiteDirectoryStore(database: database),
            writer: SQLiteDirectoryWriter(database: database),
            statuses: SQLiteStatusStore(database: database),
            idempotency: SQLiteIdempotencyStore(database: database),
            throttle: SQLiteThrottleLog(database: database),
            sessions: SQLiteConsoleSessionStore(database: database),
            pushLedger: SQLitePushLedger(database: database),
            engine: database,
            dispatchGate: SQLiteDispatchGate(database: database)
        )
    }
}
