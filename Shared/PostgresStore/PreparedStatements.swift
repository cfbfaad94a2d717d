import Foundation
import HeraldCore
import PostgresNIO
import Store

/// The statements every send runs, prepared: the server parses and plans each once per connection
/// instead of once per call. Planning was about 40% of the server's time per send in `make bench`
/// (the permissions join alone planned for 0.6 ms a call; pg_stat_statements with track_planning).
/// Rows come back as they are; each store decodes its own columns. Each names itself (postgres-nio's
/// default name is `String(reflecting:)` of the type, worked out again on every call).
protocol PreparedQuery: PostgresPreparedStatement where Row == PostgresRow {
    /// `$1`, `$2`, … in order.
    var parameters: [Parameter] { get }
}

extension PreparedQuery {
    func decodeRow(_ row: PostgresRow) throws -> PostgresRow { row }

    func makeBindings() throws -> PostgresBindings {
        let parameters = parameters
        var bindings = PostgresBindings(capacity: parameters.count)
        for parameter in parameters {
            switch parameter {
            case .text(let value): bindings.append(value)
            case .optionalText(let value): bindings.append(value)
            case .float(let value): bindings.append(value)
            case .integer(let value): bindings.append(value)
            case .texts(let values): bindings.append(values)
            case .floats(let values): bindings.append(values)
            case .integers(let values): bindings.append(values)
            case .booleans(let values): bindings.append(values)
            }
        }
        return bindings
    }
}

/// A parameter of a prepared statement, of the types Herald's statements take.
enum Parameter {
    case text(String)
    /// Text or NULL.
    case optionalText(String?)
    case float(Double)
    case integer(Int32)
    case texts([String])
    case floats([Double])
    case integers([Int32])
    case booleans([Bool])
}

/// A statement whose two parameters are a tenant and one id of it (`$1`, `$2`).
protocol TenantAndIdQuery: PreparedQuery {
    var tenantId: String { get }
    var id: String { get }
}

extension TenantAndIdQuery {
    var parameters: [Parameter] { [.text(tenantId), .text(id)] }
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

/// What a device send reads before it is published: the caller's permissions and the device.
struct DeviceSendRead: Sendable {
    var tenantId: String
    var principalId: String
    var deviceId: String
}

/// The reads of several device sends (`DeviceSendRead`) in one statement: for each whose principal
/// exists, one row per permission (one with NULL when it has none), each with the device of its
/// tenant beside it (NULL columns when there is no such device); `ord` is the read's position from 1.
/// Nothing of a read whose principal does not exist. Every lookup is by key, lateral and fenced
/// (`LIMIT 1`, `OFFSET 0`) so that the planner cannot turn it into a join: it hashed the batch
/// against every principal of every tenant.
struct PermissionsAndDevicesQuery: PreparedQuery {
    static let name = "herald_permissions_and_devices"
    static let sql = """
        SELECT q.ord, rp.permission, \(PostgresDirectoryStore.deviceColumns)
        FROM unnest($1::text[], $2::text[], $3::text[]) WITH ORDINALITY AS q(tenant_id, principal_id, device_id, ord)
        JOIN LATERAL (
            SELECT p.tenant_id, p.id FROM principals p WHERE p.tenant_id = q.tenant_id AND p.id = q.principal_id LIMIT 1
        ) p ON true
        LEFT JOIN LATERAL (
            SELECT rp.permission FROM principal_roles pr
            JOIN role_permissions rp ON rp.tenant_id = pr.tenant_id AND rp.role_id = pr.role_id
            WHERE pr.tenant_id = p.tenant_id AND pr.principal_id = p.id
            OFFSET 0
        ) rp ON true
        LEFT JOIN LATERAL (
            SELECT * FROM devices WHERE tenant_id = q.tenant_id AND id = q.device_id LIMIT 1
        ) d ON true
        """
    var tenantIds: [String] = []
    var principalIds: [String] = []
    var deviceIds: [String] = []

    init(_ reads: [DeviceSendRead]) {
        for read in reads {
            tenantIds.append(read.tenantId)
            principalIds.append(read.principalId)
            deviceIds.append(read.deviceId)
        }
    }

    var parameters: [Parameter] { [.texts(tenantIds), .texts(principalIds), .texts(deviceIds)] }
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
///
/// They come back as one row of one array per column (in that order, the tenant left out: it is
/// `$1`), not a row per device: reading a row costs postgres-nio far more than reading an array
/// element, and a fan-out reads 200,000 devices. A push token that is NULL has `false` in the last
/// array. The sort is done once, in the subquery; the aggregates keep its order.
struct DevicesOfUsersQuery: PreparedQuery {
    static let name = "herald_devices_of_users"
    static let sql = """
        SELECT array_agg(d.id), array_agg(d.user_id), array_agg(d.platform), array_agg(d.enrolled),
            array_agg(d.company_portal), array_agg(d.notifications_allowed), array_agg(d.google_play),
            array_agg(coalesce(d.push_token, '')), array_agg(d.push_token IS NOT NULL)
        FROM (SELECT * FROM devices WHERE tenant_id = $1 AND user_id = ANY($2) ORDER BY user_id, id) d
        """
    var tenantId: String
    var userIds: [String]

    var parameters: [Parameter] { [.text(tenantId), .texts(userIds)] }
}

/// Which of some group ids exist in a tenant.
struct ExistingGroupsQuery: PreparedQuery {
    static let name = "herald_existing_groups"
    static let sql = "SELECT id FROM groups WHERE tenant_id = $1 AND id = ANY($2)"
    var tenantId: String
    var groupIds: [String]

    var parameters: [Parameter] { [.text(tenantId), .texts(groupIds)] }
}

/// The groups reached from some groups through nested group members, those included, each once, in
/// id order. UNION (not UNION ALL) drops a group already reached, so a cycle ends; every step
/// stays in the tenant.
struct ReachedGroupsQuery: PreparedQuery {
    static let name = "herald_reached_groups"
    static let sql = """
        WITH RECURSIVE reached(id) AS (
            SELECT unnest($2::text[]) COLLATE "C"
            UNION
            SELECT m.member_id FROM group_members m JOIN reached r ON m.group_id = r.id
            WHERE m.tenant_id = $1 AND m.member_type = 'group'
        )
        SELECT id FROM reached ORDER BY id COLLATE "C"
        """
    var tenantId: String
    var groupIds: [String]

    var parameters: [Parameter] { [.text(tenantId), .texts(groupIds)] }
}

/// The first page of a group's direct user members. The primary key (tenant_id, group_id,
/// member_type, member_id) serves a seek, then `limit` rows in order; member_id is COLLATE "C":
/// byte order of the UTF-8.
struct UserMembersQuery: PreparedQuery {
    static let name = "herald_user_members"
    static let sql = """
        SELECT member_id FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND member_type = 'user'
        ORDER BY member_id LIMIT $3
        """
    var tenantId: String
    var groupId: String
    var limit: Int32

    var parameters: [Parameter] { [.text(tenantId), .text(groupId), .integer(limit)] }
}

/// A later page of a group's direct user members: those after `after`. A statement of its own, so
/// that its plan, prepared once, seeks to `after` (`$3 IS NULL OR ...` in one statement would not).
struct UserMembersAfterQuery: PreparedQuery {
    static let name = "herald_user_members_after"
    static let sql = """
        SELECT member_id FROM group_members WHERE tenant_id = $1 AND group_id = $2 AND member_type = 'user'
            AND member_id > $3
        ORDER BY member_id LIMIT $4
        """
    var tenantId: String
    var groupId: String
    var after: String
    var limit: Int32

    var parameters: [Parameter] { [.text(tenantId), .text(groupId), .text(after), .integer(limit)] }
}

/// One notification's status, of a tenant.
struct StatusQuery: TenantAndIdQuery {
    static let name = "herald_status"
    static let sql = "SELECT \(PostgresStatusStore.columns) FROM notifications WHERE tenant_id = $1 AND id = $2"
    var tenantId: String
    /// The notification's id.
    var id: String
}

/// The first records of accepted notifications, several in one statement (`GroupCommit`); a record
/// already there is kept. Every batch of status records writes its rows in id order, so that two
/// batches sharing ids (ingest's and a dispatcher's, of the same requests) never wait for each
/// other in a circle: a deadlock, which PostgreSQL ends only after a second.
struct RecordAcceptedBatch: PreparedQuery {
    static let name = "herald_record_accepted_batch"
    static let sql = """
        INSERT INTO notifications (id, tenant_id, kind, status, accepted_at, updated_at, initiator, initiator_token, route, targets)
        SELECT id, tenant_id, kind, status, accepted_at, updated_at,
            NULLIF(initiator, ''), NULLIF(initiator_token, ''), NULLIF(route, ''), NULLIF(targets, '')
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[],
            $7::text[], $8::text[], $9::text[], $10::text[])
            AS u(id, tenant_id, kind, status, accepted_at, updated_at, initiator, initiator_token, route, targets)
        ORDER BY id
        ON CONFLICT (id) DO NOTHING
        """
    var records: StatusColumns

    init(_ records: [NotificationStatus], now: Double) {
        self.records = StatusColumns(records, now: now)
    }

    var parameters: [Parameter] { records.leading + [records.updated] + records.audit }
}

/// What every status record of a batch has, one array per column: `$1`…`$5` (id, tenant, kind,
/// status, accepted at) of both batch statements, and the time of the write, their last.
struct StatusColumns {
    var ids: [String] = []
    var tenantIds: [String] = []
    var kinds: [String] = []
    var statuses: [String] = []
    var acceptedAt: [Double] = []
    var updatedAt: [Double] = []
    /// The audit part; empty strings are written as NULL.
    var initiators: [String] = []
    var tokenIds: [String] = []
    var routes: [String] = []
    var targets: [String] = []

    init(_ records: [NotificationStatus], now: Double) {
        for record in records {
            ids.append(record.id)
            tenantIds.append(record.tenantId)
            kinds.append(record.kind.rawValue)
            statuses.append(record.status.rawValue)
            acceptedAt.append(record.acceptedAt.timeIntervalSince1970)
            updatedAt.append(now)
            initiators.append(record.initiator?.principalId ?? "")
            tokenIds.append(record.initiator?.tokenId ?? "")
            routes.append(record.initiator?.route.rawValue ?? "")
            targets.append(record.targets?.idsColumn ?? "")
        }
    }

    var leading: [Parameter] { [.texts(ids), .texts(tenantIds), .texts(kinds), .texts(statuses), .floats(acceptedAt)] }
    var updated: Parameter { .floats(updatedAt) }
    /// The four audit columns, the last parameters of both batch statements.
    var audit: [Parameter] { [.texts(initiators), .texts(tokenIds), .texts(routes), .texts(targets)] }
}

/// Notifications' records, several in one statement (`GroupCommit`), each replaced unless that
/// would put a finished record back to unfinished. One statement may not touch a row twice, so a
/// batch holds each id once. Arrays cannot carry NULL from here: a missing time is NaN, a missing
/// reason has `false` in `hasReason`.
struct SaveStatusBatch: PreparedQuery {
    static let name = "herald_save_status_batch"
    static let sql = """
        INSERT INTO notifications (id, tenant_id, kind, status, accepted_at, deferred_until, dispatched_at,
            envelopes_ios, envelopes_android, skipped, reason, updated_at, initiator, initiator_token, route, targets)
        SELECT id, tenant_id, kind, status, accepted_at, NULLIF(deferred_until, 'NaN'), NULLIF(dispatched_at, 'NaN'),
            envelopes_ios, envelopes_android, skipped, CASE WHEN has_reason THEN reason END, updated_at,
            NULLIF(initiator, ''), NULLIF(initiator_token, ''), NULLIF(route, ''), NULLIF(targets, '')
        FROM unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::float8[], $6::float8[], $7::float8[],
            $8::int4[], $9::int4[], $10::text[], $11::text[], $12::bool[], $13::float8[],
            $14::text[], $15::text[], $16::text[], $17::text[])
            AS u(id, tenant_id, kind, status, accepted_at, deferred_until, dispatched_at,
                envelopes_ios, envelopes_android, skipped, reason, has_reason, updated_at,
                initiator, initiator_token, route, targets)
        ORDER BY id
        \(StatusUpsert.keepingFinished)
        """
    var records: StatusColumns
    var deferredUntil: [Double] = []
    var dispatchedAt: [Double] = []
    var envelopesIOS: [Int32] = []
    var envelopesAndroid: [Int32] = []
    var skipped: [String] = []
    var reasons: [String] = []
    var hasReason: [Bool] = []

    init(_ records: [NotificationStatus], now: Double) {
        self.records = StatusColumns(records, now: now)
        for record in records {
            deferredUntil.append(record.deferredUntil?.timeIntervalSince1970 ?? .nan)
            dispatchedAt.append(record.dispatchedAt?.timeIntervalSince1970 ?? .nan)
            envelopesIOS.append(Int32(clamping: record.envelopes["ios"] ?? 0))
            envelopesAndroid.append(Int32(clamping: record.envelopes["android"] ?? 0))
            skipped.append(NotificationStatus.skippedColumn(record.skipped))
            reasons.append(record.reason ?? "")
            hasReason.append(record.reason != nil)
        }
    }

    var parameters: [Parameter] {
        records.leading + [
            .floats(deferredUntil), .floats(dispatchedAt), .integers(envelopesIOS), .integers(envelopesAndroid),
            .texts(skipped), .texts(reasons), .booleans(hasReason), records.updated,
        ] + records.audit
    }
}

/// The throttle's check-and-record alone (`herald_dispatch_admit` in the schema, for no request's
/// status): an empty array when admitted, else the send times inside the window.
struct ThrottleAdmitQuery: PreparedQuery {
    static let name = "herald_throttle_admit"
    static let sql = "SELECT recent FROM herald_dispatch_admit(NULL, $2, $1, $3, $4, $5)"
    static let bindingDataTypes: [PostgresDataType] = [.text, .text, .float8, .float8, .int4]
    var scope: String
    var notificationId: String
    var windowStart: Double
    var at: Double
    var limit: Int32

    var parameters: [Parameter] { [.text(scope), .text(notificationId), .float(windowStart), .float(at), .integer(limit)] }
}

/// The dispatcher's first step (`herald_dispatch_admit` in the schema), with the device of a device
/// send read in the same statement once the send is admitted (`$7`; NULL for a group send).
struct DispatchAdmitQuery: PreparedQuery {
    static let name = "herald_dispatch_admit"
    static let sql = """
        SELECT s.finished, s.recent, \(PostgresDirectoryStore.deviceColumns)
        FROM herald_dispatch_admit($1, $2, $3, $4, $5, $6) s
        LEFT JOIN devices d ON d.tenant_id = $1 AND d.id = $7 AND cardinality(s.recent) = 0
        """
    static let bindingDataTypes: [PostgresDataType] = [.text, .text, .text, .float8, .float8, .int4, .text]
    var tenantId: String
    var notificationId: String
    var scope: String
    var windowStart: Double
    var at: Double
    var limit: Int32
    var deviceId: String?

    var parameters: [Parameter] {
        [
            .text(tenantId),
            .text(notificationId),
            .text(scope),
            .float(windowStart),
            .float(at),
            .integer(limit),
            .optionalText(deviceId),
        ]
    }
}

/// A dispatcher's batch at the gate (`herald_dispatch_admit_all` in the schema): one row per question,
/// in order, each with the device of a device send read once the send is admitted (an empty device
/// id: none, a group send). The device is a lateral lookup by key, which the planner cannot turn
/// into a join: a generic plan that hashed the function's rows against every device (it guesses
/// 1,000 rows for a function) cost 40 ms a batch once the dispatcher's session had chosen it.
struct DispatchAdmitAllQuery: PreparedQuery {
    static let name = "herald_dispatch_admit_all"
    static let sql = """
        SELECT s.finished, s.recent, \(PostgresDirectoryStore.deviceColumns)
        FROM herald_dispatch_admit_all($1::text[], $2::text[], $3::text[], $4::float8[], $5::float8[], $6::int4[]) s
        LEFT JOIN LATERAL (
            SELECT * FROM devices WHERE tenant_id = ($1::text[])[s.ord] AND id = NULLIF(($7::text[])[s.ord], '')
                AND cardinality(s.recent) = 0
            LIMIT 1
        ) d ON true
        ORDER BY s.ord
        """
    var tenantIds: [String] = []
    var notificationIds: [String] = []
    var scopes: [String] = []
    var windowStarts: [Double] = []
    var ats: [Double] = []
    var limits: [Int32] = []
    var deviceIds: [String] = []

    init(_ questions: [GateQuestion]) {
        for question in questions {
            tenantIds.append(question.tenantId)
            notificationIds.append(question.notificationId)
            scopes.append(question.scope)
            windowStarts.append(question.rule.windowStart(at: question.now).timeIntervalSince1970)
            ats.append(question.now.timeIntervalSince1970)
            limits.append(Int32(clamping: question.rule.limit))
            deviceIds.append(question.deviceId ?? "")
        }
    }

    var parameters: [Parameter] {
        [
            .texts(tenantIds), .texts(notificationIds), .texts(scopes), .floats(windowStarts), .floats(ats), .integers(limits),
            .texts(deviceIds),
        ]
    }
}
