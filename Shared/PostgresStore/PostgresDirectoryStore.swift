import Foundation
public import HeraldCore
import Logging
import PostgresNIO
public import Store

/// The PostgreSQL directory. Every query names the tenant, at every step of a group expansion too.
public struct PostgresDirectoryStore: DirectoryStore {
    let database: PostgresEngine

    public init(database: PostgresEngine) { self.database = database }

    static let deviceColumns =
        "d.id, d.tenant_id, d.user_id, d.platform, d.enrolled, d.company_portal, d.notifications_allowed, d.google_play, d.push_token"
    typealias DeviceRow = (String, String, String?, String, Bool, Bool, Bool, Bool, String?)

    public func permissions(tenantId: String, principalId: String) async throws -> Set<Permission>? {
        try await database.bounded {
            // One statement: the principal's existence and its permissions, so a role removed a moment
            // ago is never half seen.
            let rows = try await database.run(PermissionsQuery(tenantId: tenantId, id: principalId))
            var exists = false
            var permissions = Set<Permission>()
            for try await row in rows {
                let name = try row.decode(String?.self)
                exists = true
                if let permission = name.flatMap(Permission.init(rawValue:)) { permissions.insert(permission) }
            }
            return exists ? permissions : nil
        }
    }

    public func existingGroups(tenantId: String, groupIds: [String]) async throws -> Set<String> {
        try await database.bounded {
            try await strings("SELECT id FROM groups WHERE tenant_id = \(tenantId) AND id = ANY(\(groupIds))").reduce(into: []) {
                $0.insert($1)
            }
        }
    }

    public func device(tenantId: String, deviceId: String) async throws -> Device? {
        try await database.bounded {
            try await devices(database.run(DeviceQuery(tenantId: tenantId, id: deviceId))).first
        }
    }

    public func reachedGroups(tenantId: String, from groupIds: [String]) async throws -> [String] {
        try await database.bounded {
            // UNION (not UNION ALL) drops a group already reached, so a cycle ends.
            try await strings(
                """
                WITH RECURSIVE reached(id) AS (
                    SELECT unnest(\(groupIds)::text[]) COLLATE "C"
                    UNION
                    SELECT m.member_id FROM group_members m JOIN reached r ON m.group_id = r.id
                    WHERE m.tenant_id = \(tenantId) AND m.member_type = 'group'
                )
                SELECT id FROM reached ORDER BY id COLLATE "C"
                """
            )
        }
    }

    public func userMembers(tenantId: String, ofGroup groupId: String, after: String?, limit: Int) async throws -> [String] {
        try await database.bounded {
            // The primary key (tenant_id, group_id, member_type, member_id) serves a seek, then `limit`
            // rows in order; member_id is COLLATE "C": byte order of the UTF-8.
            try await strings(
                """
                SELECT member_id FROM group_members
                WHERE tenant_id = \(tenantId) AND group_id = \(groupId) AND member_type = 'user'
                    AND (\(after)::text IS NULL OR member_id > \(after))
                ORDER BY member_id LIMIT \(limit)
                """
            )
        }
    }

    public func devices(tenantId: String, ofUsers userIds: [String]) async throws -> [Device] {
        try await database.bounded {
            try await devices(database.run(DevicesOfUsersQuery(tenantId: tenantId, userIds: userIds)))
        }
    }

    public func groups(tenantId: String, matching search: String, limit: Int) async throws -> [GroupSummary] {
        try await database.bounded {
            let pattern =
                "%"
                + search.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
                .replacingOccurrences(of: "_", with: "\\_") + "%"
            return try await groupSummaries(
                """
                SELECT \(unescaped: Self.groupColumns) FROM groups g
                WHERE g.tenant_id = \(tenantId) AND (g.display_name ILIKE \(pattern) OR g.id ILIKE \(pattern))
                ORDER BY lower(g.display_name), g.id LIMIT \(limit)
                """
            )
        }
    }

    public func groups(tenantId: String, ids: [String]) async throws -> [GroupSummary] {
        try await database.bounded {
            let found = try await groupSummaries(
                "SELECT \(unescaped: Self.groupColumns) FROM groups g WHERE g.tenant_id = \(tenantId) AND g.id = ANY(\(ids))"
            )
            return found.ordered(by: ids)
        }
    }

    public func managedDevices(tenantId: String) async throws -> [ManagedDevice] {
        try await managedDevices(tenantId: tenantId, deviceId: nil)
    }

    public func managedDevice(tenantId: String, deviceId: String) async throws -> ManagedDevice? {
        try await managedDevices(tenantId: tenantId, deviceId: deviceId).first
    }

    // MARK: Reading rows

    static let groupColumns = """
        g.id, g.display_name,
        (SELECT COUNT(*)::integer FROM group_members m WHERE m.tenant_id = g.tenant_id AND m.group_id = g.id AND m.member_type = 'user'),
        (SELECT COUNT(*)::integer FROM group_members m WHERE m.tenant_id = g.tenant_id AND m.group_id = g.id AND m.member_type = 'group')
        """

    private func managedDevices(tenantId: String, deviceId: String?) async throws -> [ManagedDevice] {
        let rows = try await database.client.query(
            """
            SELECT \(unescaped: Self.deviceColumns), u.display_name FROM devices d
            LEFT JOIN users u ON u.tenant_id = d.tenant_id AND u.id = d.user_id
            WHERE d.tenant_id = \(tenantId) AND (\(deviceId)::text IS NULL OR d.id = \(deviceId))
            ORDER BY lower(u.display_name), d.user_id, d.id
            """,
            logger: database.logger
        )
        var found: [ManagedDevice] = []
        typealias Row = (String, String, String?, String, Bool, Bool, Bool, Bool, String?, String?)
        for try await row in rows.decode(Row.self) {
            guard let device = Self.device((row.0, row.1, row.2, row.3, row.4, row.5, row.6, row.7, row.8)) else { continue }
            found.append(ManagedDevice(device: device, userDisplayName: row.9))
        }
        return found
    }

    private func strings(_ query: PostgresQuery) async throws -> [String] {
        var found: [String] = []
        for try await value in try await database.client.query(query, logger: database.logger).decode(String.self) {
            found.append(value)
        }
        return found
    }

    private func devices(_ rows: some AsyncSequence<PostgresRow, any Error>) async throws -> [Device] {
        var found: [Device] = []
        for try await row in rows {
            if let device = Self.device(try row.decode(DeviceRow.self)) { found.append(device) }
        }
        return found
    }

    private func groupSummaries(_ query: PostgresQuery) async throws -> [GroupSummary] {
        var found: [GroupSummary] = []
        let rows = try await database.client.query(query, logger: database.logger)
        for try await (id, name, users, nested) in rows.decode((String, String, Int, Int).self) {
            found.append(GroupSummary(id: id, displayName: name, users: users, nestedGroups: nested))
        }
        return found
    }

    static func device(_ row: DeviceRow) -> Device? {
        guard let platform = Platform(rawValue: row.3) else { return nil }
        return Device(
            id: row.0,
            tenantId: row.1,
            userId: row.2,
            platform: platform,
            enrolled: row.4,
            companyPortalInstalled: row.5,
            notificationsAllowed: row.6,
            googlePlayServices: row.7,
            pushToken: row.8
        )
    }
}
