import HeraldCore
import PostgresNIO

/// A row's columns read one after the other, each as its own type. Decoding a row as a tuple
/// (`row.decode((String, String, ...).self)`) makes the tuple's type metadata at run time on every
/// row: 13% of the dispatcher's time in a 100,000-user fan-out on PostgreSQL (`perf record`).
struct RowColumns {
    private var cells: PostgresRow.Iterator

    init(_ row: PostgresRow) {
        cells = row.makeIterator()
    }

    /// The next column, as `type`.
    mutating func next<Value: PostgresDecodable>(_ type: Value.Type) throws -> Value {
        guard let cell = cells.next() else { throw PostgresStoreError.noAnswer("a row shorter than its statement") }
        return try cell.decode(Value.self)
    }

    /// The next `PostgresDirectoryStore.deviceColumns`: a device, or nil when they are NULL (a LEFT
    /// JOIN found none) or name a platform this Herald does not know.
    mutating func device() throws -> Device? {
        let id = try next(String?.self)
        let tenantId = try next(String?.self)
        let userId = try next(String?.self)
        let platform = try next(String?.self)
        let enrolled = try next(Bool?.self)
        let companyPortal = try next(Bool?.self)
        let notificationsAllowed = try next(Bool?.self)
        let googlePlay = try next(Bool?.self)
        let pushToken = try next(String?.self)
        guard let id, let tenantId, let platform = platform.flatMap(Platform.init(rawValue:)), let enrolled, let companyPortal,
            let notificationsAllowed, let googlePlay
        else { return nil }
        return Device(
            id: id,
            tenantId: tenantId,
            userId: userId,
            platform: platform,
            enrolled: enrolled,
            companyPortalInstalled: companyPortal,
            notificationsAllowed: notificationsAllowed,
            googlePlayServices: googlePlay,
            pushToken: pushToken
        )
    }
}
