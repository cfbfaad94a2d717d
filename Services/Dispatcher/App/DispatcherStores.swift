public import Store

/// The stores the dispatcher reads and writes, chosen once at start.
public struct DispatcherStores: Sendable {
    /// Groups, users and devices, read at delivery time.
    public var directory: any DirectoryStore
    /// Notification status records.
    public var statuses: any StatusStore
    /// The sliding-window log behind the throttles.
    public var throttle: any ThrottleLog

    public init(directory: any DirectoryStore, statuses: any StatusStore, throttle: any ThrottleLog) {
        self.directory = directory
        self.statuses = statuses
        self.throttle = throttle
    }

    /// Every store on the SQLite database shared by the processes of one host.
    public init(sqlite database: HeraldDatabase) {
        self.init(
            directory: SQLiteDirectoryStore(database: database),
            statuses: SQLiteStatusStore(database: database),
            throttle: SQLiteThrottleLog(database: database)
        )
    }
}
