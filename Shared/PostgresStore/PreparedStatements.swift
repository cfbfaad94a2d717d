import PostgresNIO

/// The statements every send runs, prepared: the server parses and plans each once per connection
/// instead of once per call. Planning was about 40% of the server's time per send in `make bench`
/// (the permissions join alone planned for 0.6 ms a call; pg_stat_statements with track_planning).
/// Rows come back as they are; each store decodes its own columns. Each names itself (postgres-nio's
/// default name is `String(reflecting:)` of the type, worked out again on every call).
protocol PreparedQuery: PostgresPreparedStatement where Row == PostgresRow {}

extension PreparedQuery {
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }
}

/// A statement whose two parameters are a tenant and one id of it (`$1`, `$2`).
protocol TenantAndIdQuery: PreparedQuery {
    var tenantId: String { get }
    var id: String { get }
}

extension TenantAndIdQuery {
    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(tenantId)
        bindings.append(id)
        return bindings
    }
}

extension PostgresEngine {
    /// Runs a prepared statement on a connection of the pool.
    func run<Statement: PreparedQuery>(_ statement: Statement) async throws -> AsyncThrowingMapSequence<PostgresRowSequence, PostgresRow> {
        try await client.execute(statement, logger: logger)
    }
}

/// Whether a principal exists, and its permissions (one row per permission, or one NULL row).
struct PermissionsQuery: TenantAndIdQuery {
    static let name = "herald_permissions"
    static let sql = """
        SELECT rp.permission FROM principals p
        LEFT JOIN principal_roles pr ON pr.tenant_id = p.tenant_id AND pr.principal_id = p.id
        LEFT JOIN role_permissions rp ON rp.tenant_id = pr.tenant_id AND rp.role_id = pr.role_id
        WHERE p.tenant_id = $1 AND p.id = $2
        """
    var tenantId: String
    /// The principal's id.
    var id: String
}

/// One device of a tenant.
struct DeviceQuery: TenantAndIdQuery {
    static let name = "herald_device"
    static let sql = "SELECT \(PostgresDirectoryStore.deviceColumns) FROM devices d WHERE d.tenant_id = $1 AND d.id = $2"
    var tenantId: String
    /// The device's id.
    var id: String
}

/// The devices of a page of users, by user and id.
struct DevicesOfUsersQuery: PreparedQuery {
    static let name = "herald_devices_of_users"
    static let sql = """
        SELECT \(PostgresDirectoryStore.deviceColumns) FROM devices d
        WHERE d.tenant_id = $1 AND d.user_id = ANY($2) ORDER BY d.user_id, d.id
        """
    var tenantId: String
    var userIds: [String]

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 2)
        bindings.append(tenantId)
        bindings.append(userIds)
        return bindings
    }
}

/// One notification's status, of a tenant.
struct StatusQuery: TenantAndIdQuery {
    static let name = "herald_status"
    static let sql = "SELECT \(PostgresStatusStore.columns) FROM notifications WHERE tenant_id = $1 AND id = $2"
    var tenantId: String
    /// The notification's id.
    var id: String
}

/// The first record of an accepted notification; a record already there is kept.
struct RecordAcceptedQuery: PreparedQuery {
    static let name = "herald_record_accepted"
    static let sql = """
        INSERT INTO notifications (id, tenant_id, kind, status, accepted_at, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6)
        ON CONFLICT (id) DO NOTHING
        """
    var id: String
    var tenantId: String
    var kind: String
    var status: String
    var acceptedAt: Double
    var updatedAt: Double

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 6)
        bindings.append(id)
        bindings.append(tenantId)
        bindings.append(kind)
        bindings.append(status)
        bindings.append(acceptedAt)
        bindings.append(updatedAt)
        return bindings
    }
}

/// A notification's record, replaced unless that would put a finished record back to unfinished.
struct SaveStatusQuery: PreparedQuery {
    static let name = "herald_save_status"
    static let sql = """
        INSERT INTO notifications (id, tenant_id, kind, status, accepted_at, deferred_until, dispatched_at,
            envelopes_ios, envelopes_android, skipped, reason, updated_at)
        VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
        ON CONFLICT (id) DO UPDATE SET status = excluded.status, deferred_until = excluded.deferred_until,
            dispatched_at = excluded.dispatched_at, envelopes_ios = excluded.envelopes_ios,
            envelopes_android = excluded.envelopes_android, skipped = excluded.skipped,
            reason = excluded.reason, updated_at = excluded.updated_at
        WHERE notifications.status NOT IN ('dispatched', 'failed', 'throttled')
            OR excluded.status IN ('dispatched', 'failed', 'throttled')
        """
    static let bindingDataTypes: [PostgresDataType] = [
        .text, .text, .text, .text, .float8, .float8, .float8, .int4, .int4, .text, .text, .float8,
    ]
    var id: String
    var tenantId: String
    var kind: String
    var status: String
    var acceptedAt: Double
    var deferredUntil: Double?
    var dispatchedAt: Double?
    var envelopesIOS: Int32
    var envelopesAndroid: Int32
    var skipped: String
    var reason: String?
    var updatedAt: Double

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 12)
        bindings.append(id)
        bindings.append(tenantId)
        bindings.append(kind)
        bindings.append(status)
        bindings.append(acceptedAt)
        bindings.append(deferredUntil)
        bindings.append(dispatchedAt)
        bindings.append(envelopesIOS)
        bindings.append(envelopesAndroid)
        bindings.append(skipped)
        bindings.append(reason)
        bindings.append(updatedAt)
        return bindings
    }
}

/// The throttle's check-and-record (`herald_throttle_admit` in the schema).
struct ThrottleAdmitQuery: PreparedQuery {
    static let name = "herald_throttle_admit"
    static let sql = "SELECT herald_throttle_admit($1, $2, $3, $4, $5)"
    var scope: String
    var notificationId: String
    var windowStart: Double
    var at: Double
    var limit: Int32

    func makeBindings() throws -> PostgresBindings {
        var bindings = PostgresBindings(capacity: 5)
        bindings.append(scope)
        bindings.append(notificationId)
        bindings.append(windowStart)
        bindings.append(at)
        bindings.append(limit)
        return bindings
    }
}
