import Foundation
public import HeraldCore
import Logging
import PostgresNIO
public import Store

/// The PostgreSQL directory writer: each file or membership change is one transaction, and a file
/// is written in a few statements of arrays (not one round trip per row), after every reference
/// in it has been checked against the file and the tenant, so a bad file changes nothing.
public struct PostgresDirectoryWriter: DirectoryWriter {
    let database: PostgresEngine

    public init(database: PostgresEngine) { self.database = database }

    /// The tables that hold a tenant's directory (not its notifications, keys or throttle log).
    static let directoryTables = [
        "users", "devices", "groups", "group_members", "roles", "role_permissions", "principals", "principal_roles",
    ]

    /// Writes the file in one transaction. Unlike the services' calls, an import is not bounded by
    /// the 5 s statement timeout: its time grows with the file (6 to 10 s for 100,000 users with two
    /// devices each on the benchmark machine), and the operator who runs it waits for it. The
    /// directory tables are analyzed at its end, so that the fan-outs that follow a large import
    /// are planned on the new row counts, not on the old ones (a plan for an empty table made the
    /// first fan-out after a 100,000-user import take twice as long).
    @discardableResult
    public func importFile(_ file: DirectoryFile, replacingTenants: Bool) async throws -> DirectoryImportSummary {
        let logger = database.logger
        try await database.transaction { connection in
            try await connection.query("SET LOCAL statement_timeout = 0", logger: logger)
            let replaced = file.tenants.map(\.id)
            if replacingTenants {
                for table in Self.directoryTables {
                    try await connection.query("DELETE FROM \(unescaped: table) WHERE tenant_id = ANY(\(replaced))", logger: logger)
                }
            }
            let known = try await KnownIds(file: file, connection: connection, logger: logger)
            try known.check(file)
            try await Self.write(file, connection: connection, logger: logger)
            try await connection.query("ANALYZE \(unescaped: Self.directoryTables.joined(separator: ", "))", logger: logger)
        }
        return DirectoryImportSummary(of: file)
    }

    public func addMember(tenantId: String, groupId: String, member: GroupMember) async throws {
        try await database.bounded {
            let logger = database.logger
            try await database.transaction { connection in
                try await Self.requireMember(connection, logger, tenantId, .group, groupId, "--group")
                try await Self.requireMember(connection, logger, tenantId, member.type, member.id, "--\(member.type.rawValue)")
                try await connection.query(
                    """
                    INSERT INTO group_members VALUES (\(tenantId), \(groupId), \(member.type.rawValue), \(member.id))
                    ON CONFLICT DO NOTHING
                    """,
                    logger: logger
                )
            }
        }
    }

    public func removeMember(tenantId: String, groupId: String, member: GroupMember) async throws {
        try await database.bounded {
            let logger = database.logger
            try await database.transaction { connection in
                try await Self.requireMember(connection, logger, tenantId, .group, groupId, "--group")
                let removed = try await connection.query(
                    """
                    DELETE FROM group_members WHERE tenant_id = \(tenantId) AND group_id = \(groupId)
                        AND member_type = \(member.type.rawValue) AND member_id = \(member.id) RETURNING 1
                    """,
                    logger: logger
                )
                for try await _ in removed.decode(Int.self) { return }
                throw DirectoryFileError(
                    path: "--\(member.type.rawValue)",
                    message: "\(member.type.rawValue) \"\(member.id)\" is not a member of group \"\(groupId)\""
                )
            }
        }
    }

    // MARK: Writing a checked file

    /// Upserts every element with one statement per table, from arrays.
    static func write(_ file: DirectoryFile, connection: PostgresConnection, logger: Logger) async throws {
        try await connection.query(
            """
            INSERT INTO tenants (id, name) SELECT * FROM unnest(\(file.tenants.map(\.id))::text[], \(file.tenants.map(\.name))::text[])
            ON CONFLICT (id) DO UPDATE SET name = excluded.name
            """,
            logger: logger
        )
        let users = file.users
        try await connection.query(
            """
            INSERT INTO users (tenant_id, id, display_name)
            SELECT * FROM unnest(\(users.map(\.tenantId))::text[], \(users.map(\.id))::text[], \(users.map(\.displayName))::text[])
            ON CONFLICT (tenant_id, id) DO UPDATE SET display_name = excluded.display_name
            """,
            logger: logger
        )
        let devices = file.devices
        // Arrays of optionals do not bind; a flag beside each says whether the value is there.
        try await connection.query(
            """
            INSERT INTO devices (tenant_id, id, user_id, platform, enrolled, company_portal, notifications_allowed, google_play, push_token)
            SELECT t, i, CASE WHEN has_user THEN u END, p, e, c, n, g, CASE WHEN has_token THEN k END
            FROM unnest(\(devices.map(\.tenantId))::text[], \(devices.map(\.id))::text[],
                \(devices.map { $0.userId ?? "" })::text[], \(devices.map { $0.userId != nil })::boolean[],
                \(devices.map(\.platform.rawValue))::text[], \(devices.map(\.enrolled))::boolean[],
                \(devices.map(\.companyPortalInstalled))::boolean[], \(devices.map(\.notificationsAllowed))::boolean[],
                \(devices.map(\.googlePlayServices))::boolean[],
                \(devices.map { $0.pushToken ?? "" })::text[], \(devices.map { $0.pushToken != nil })::boolean[])
                AS d(t, i, u, has_user, p, e, c, n, g, k, has_token)
            ON CONFLICT (tenant_id, id) DO UPDATE SET user_id = excluded.user_id, platform = excluded.platform,
                enrolled = excluded.enrolled, company_portal = excluded.company_portal,
                notifications_allowed = excluded.notifications_allowed, google_play = excluded.google_play,
                push_token = excluded.push_token
            """,
            logger: logger
        )
        let groups = file.groups
        try await connection.query(
            """
            INSERT INTO groups (tenant_id, id, display_name)
            SELECT * FROM unnest(\(groups.map(\.tenantId))::text[], \(groups.map(\.id))::text[], \(groups.map(\.displayName))::text[])
            ON CONFLICT (tenant_id, id) DO UPDATE SET display_name = excluded.display_name
            """,
            logger: logger
        )
        // A group's member list, when given, replaces its members.
        let listed = groups.filter { $0.members != nil }
        try await connection.query(
            """
            DELETE FROM group_members m USING unnest(\(listed.map(\.tenantId))::text[], \(listed.map(\.id))::text[]) AS g(tenant_id, id)
            WHERE m.tenant_id = g.tenant_id AND m.group_id = g.id
            """,
            logger: logger
        )
        let members = listed.flatMap { group in (group.members ?? []).map { (group, $0) } }
        try await connection.query(
            """
            INSERT INTO group_members (tenant_id, group_id, member_type, member_id)
            SELECT * FROM unnest(\(members.map(\.0.tenantId))::text[], \(members.map(\.0.id))::text[],
                \(members.map(\.1.type.rawValue))::text[], \(members.map(\.1.id))::text[])
            ON CONFLICT DO NOTHING
            """,
            logger: logger
        )
        let roles = file.roles
        try await connection.query(
            """
            INSERT INTO roles (tenant_id, id) SELECT * FROM unnest(\(roles.map(\.tenantId))::text[], \(roles.map(\.id))::text[])
            ON CONFLICT DO NOTHING
            """,
            logger: logger
        )
        try await connection.query(
            """
            DELETE FROM role_permissions p USING unnest(\(roles.map(\.tenantId))::text[], \(roles.map(\.id))::text[]) AS r(tenant_id, id)
            WHERE p.tenant_id = r.tenant_id AND p.role_id = r.id
            """,
            logger: logger
        )
        let grants = roles.flatMap { role in Set(role.permissions).sorted().map { (role, $0) } }
        try await connection.query(
            """
            INSERT INTO role_permissions (tenant_id, role_id, permission)
            SELECT * FROM unnest(\(grants.map(\.0.tenantId))::text[], \(grants.map(\.0.id))::text[], \(grants.map(\.1))::text[])
            ON CONFLICT DO NOTHING
            """,
            logger: logger
        )
        let principals = file.principals
        try await connection.query(
            """
            INSERT INTO principals (tenant_id, id) SELECT * FROM unnest(\(principals.map(\.tenantId))::text[], \(principals.map(\.id))::text[])
            ON CONFLICT DO NOTHING
            """,
            logger: logger
        )
        try await connection.query(
            """
            DELETE FROM principal_roles r
            USING unnest(\(principals.map(\.tenantId))::text[], \(principals.map(\.id))::text[]) AS p(tenant_id, id)
            WHERE r.tenant_id = p.tenant_id AND r.principal_id = p.id
            """,
            logger: logger
        )
        let assignments = principals.flatMap { principal in principal.roles.map { (principal, $0) } }
        try await connection.query(
            """
            INSERT INTO principal_roles (tenant_id, principal_id, role_id)
            SELECT * FROM unnest(\(assignments.map(\.0.tenantId))::text[], \(assignments.map(\.0.id))::text[], \(assignments.map(\.1))::text[])
            ON CONFLICT DO NOTHING
            """,
            logger: logger
        )
    }

    static func requireMember(
        _ connection: PostgresConnection,
        _ logger: Logger,
        _ tenantId: String,
        _ kind: MemberKind,
        _ id: String,
        _ path: String
    ) async throws {
        let table =
            switch kind {
            case .user: "users"
            case .device: "devices"
            case .group: "groups"
            }
        let rows = try await connection.query(
            "SELECT 1 FROM \(unescaped: table) WHERE tenant_id = \(tenantId) AND id = \(id)",
            logger: logger
        )
        for try await _ in rows.decode(Int.self) { return }
        throw DirectoryFileError(path: path, message: "unknown \(kind.rawValue) \"\(id)\" in tenant \"\(tenantId)\"")
    }
}

/// The ids a file may refer to: its own, and those its tenants already hold in the database.
struct KnownIds {
    var tenants: Set<String>
    var users: Set<String>
    var devices: Set<String>
    var groups: Set<String>
    var roles: Set<String>

    /// `tenant\u{0}id`, the key of an id within its tenant.
    static func key(_ tenantId: String, _ id: String) -> String { tenantId + "\u{0}" + id }

    init(file: DirectoryFile, connection: PostgresConnection, logger: Logger) async throws {
        let referenced = Set(
            file.users.map(\.tenantId) + file.devices.map(\.tenantId) + file.groups.map(\.tenantId) + file.roles.map(\.tenantId)
                + file.principals.map(\.tenantId)
        )
        tenants = Set(file.tenants.map(\.id))
        for try await id in try await connection.query(
            "SELECT id FROM tenants WHERE id = ANY(\(Array(referenced)))",
            logger: logger
        ).decode(String.self) {
            tenants.insert(id)
        }
        let scope = Array(referenced)
        func existing(_ table: String) async throws -> Set<String> {
            var found = Set<String>()
            let rows = try await connection.query(
                "SELECT tenant_id, id FROM \(unescaped: table) WHERE tenant_id = ANY(\(scope))",
                logger: logger
            )
            for try await (tenant, id) in rows.decode((String, String).self) { found.insert(Self.key(tenant, id)) }
            return found
        }
        users = try await existing("users").union(file.users.map { Self.key($0.tenantId, $0.id) })
        devices = try await existing("devices").union(file.devices.map { Self.key($0.tenantId, $0.id) })
        groups = try await existing("groups").union(file.groups.map { Self.key($0.tenantId, $0.id) })
        roles = try await existing("roles").union(file.roles.map { Self.key($0.tenantId, $0.id) })
    }

    /// The first broken reference of the file, in the order the elements are written, as the
    /// error the SQLite engine gives for it.
    func check(_ file: DirectoryFile) throws(DirectoryFileError) {
        func tenant(_ id: String, _ path: String) throws(DirectoryFileError) {
            guard tenants.contains(id) else { throw DirectoryFileError(path: path, message: "unknown tenant \"\(id)\"") }
        }
        func member(_ tenantId: String, _ kind: MemberKind, _ id: String, _ path: String) throws(DirectoryFileError) {
            let known =
                switch kind {
                case .user: users
                case .device: devices
                case .group: groups
                }
            guard known.contains(Self.key(tenantId, id)) else {
                throw DirectoryFileError(path: path, message: "unknown \(kind.rawValue) \"\(id)\" in tenant \"\(tenantId)\"")
            }
        }
        for (i, user) in file.users.enumerated() { try tenant(user.tenantId, "users[\(i)].tenantId") }
        for (i, device) in file.devices.enumerated() {
            try tenant(device.tenantId, "devices[\(i)].tenantId")
            if let userId = device.userId { try member(device.tenantId, .user, userId, "devices[\(i)].userId") }
        }
        for (i, group) in file.groups.enumerated() { try tenant(group.tenantId, "groups[\(i)].tenantId") }
        for (i, group) in file.groups.enumerated() {
            for (m, entry) in (group.members ?? []).enumerated() {
                try member(group.tenantId, entry.type, entry.id, "groups[\(i)].members[\(m)].id")
            }
        }
        for (i, role) in file.roles.enumerated() { try tenant(role.tenantId, "roles[\(i)].tenantId") }
        for (i, principal) in file.principals.enumerated() {
            try tenant(principal.tenantId, "principals[\(i)].tenantId")
            for (r, role) in principal.roles.enumerated() where !roles.contains(Self.key(principal.tenantId, role)) {
                throw DirectoryFileError(
                    path: "principals[\(i)].roles[\(r)]",
                    message: "unknown role \"\(role)\" in tenant \"\(principal.tenantId)\""
                )
            }
        }
    }
}
