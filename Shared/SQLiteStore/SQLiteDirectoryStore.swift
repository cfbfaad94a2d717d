import Foundation
import GRDB
public import HeraldCore
public import Store

/// The SQLite directory.
public struct SQLiteDirectoryStore: DirectoryStore {
    let database: HeraldDatabase

    public init(database: HeraldDatabase) { self.database = database }

    public func permissions(tenantId: String, principalId: String) async throws -> Set<Permission>? {
        try await database.quickRead { db in try Self.permissions(db, tenantId: tenantId, principalId: principalId) }
    }

    static func permissions(_ db: Database, tenantId: String, principalId: String) throws -> Set<Permission>? {
        let principal = try RawSelect(db, sql: "SELECT 1 FROM principals WHERE tenant_id = ? AND id = ?")
        guard try principal.exists([.text(tenantId), .text(principalId)]) else {
            return nil
        }
        // CROSS JOIN keeps this order: the principal's roles, then each role's permissions, both
        // by primary key. Left to choose, SQLite read every role permission of the tenant.
        // Repeats are dropped by the set, which is cheaper than DISTINCT's temporary b-tree.
        let permissions = try RawSelect(
            db,
            sql: """
                SELECT rp.permission FROM principal_roles pr
                CROSS JOIN role_permissions rp ON rp.tenant_id = pr.tenant_id AND rp.role_id = pr.role_id
                WHERE pr.tenant_id = ? AND pr.principal_id = ?
                """
        )
        .all([.text(tenantId), .text(principalId)]) { $0.text(0).flatMap(Permission.init(rawValue:)) }
        return Set(permissions)
    }

    public func existingGroups(tenantId: String, groupIds: [String]) async throws -> Set<String> {
        try await database.quickRead { db in
            Set(
                try String.fetchAll(
                    db.cachedStatement(
                        sql: """
                            SELECT id FROM groups WHERE tenant_id = ? AND id IN (SELECT value FROM json_each(?))
                            """
                    ),
                    arguments: [tenantId, jsonArray(groupIds)]
                )
            )
        }
    }

    public func device(tenantId: String, deviceId: String) async throws -> Device? {
        try await database.quickRead { db in try Self.device(db, tenantId: tenantId, deviceId: deviceId) }
    }

    /// Both reads of a device send in one read transaction (one trip to GRDB's reader queue).
    public func permissionsAndDevice(
        tenantId: String,
        principalId: String,
        deviceId: String
    ) async throws
        -> (permissions: Set<Permission>?, device: Device?)
    {
        try await database.quickRead { db in
            guard let permissions = try Self.permissions(db, tenantId: tenantId, principalId: principalId) else {
                return (nil, nil)
            }
            return (permissions, try Self.device(db, tenantId: tenantId, deviceId: deviceId))
        }
    }

    static func device(_ db: Database, tenantId: String, deviceId: String) throws -> Device? {
        try RawSelect(db, sql: "SELECT \(Device.columns) FROM devices WHERE tenant_id = ? AND id = ?")
            .first([.text(tenantId), .text(deviceId)], read: Device.init(row:)) ?? nil
    }

    public func reachedGroups(tenantId: String, from groupIds: [String]) async throws -> [String] {
        try await database.pool.read { db in
            try String.fetchAll(
                db.cachedStatement(
                    sql: """
                        WITH RECURSIVE reached(id) AS (
                            SELECT value FROM json_each(?)
                            UNION
                            SELECT m.member_id FROM group_members m JOIN reached r ON m.group_id = r.id
                            WHERE m.tenant_id = ? AND m.member_type = 'group'
                        )
                        SELECT id FROM reached ORDER BY id
                        """
                ),
                arguments: [jsonArray(groupIds), tenantId]
            )
        }
    }

    public func userMembers(tenantId: String, ofGroup groupId: String, after: String?, limit: Int) async throws -> [String] {
        try await database.pool.read { db in
            // The primary key (tenant_id, group_id, member_type, member_id) serves both: a seek, then
            // `limit` rows in order. SQLite compares TEXT with memcmp: byte order of the UTF-8.
            if let after {
                return try String.fetchAll(
                    db.cachedStatement(
                        sql: """
                            SELECT member_id FROM group_members
                            WHERE tenant_id = ? AND group_id = ? AND member_type = 'user' AND member_id > ?
                            ORDER BY member_id LIMIT ?
                            """
                    ),
                    arguments: [tenantId, groupId, after, limit]
                )
            }
            return try String.fetchAll(
                db.cachedStatement(
                    sql: """
                        SELECT member_id FROM group_members WHERE tenant_id = ? AND group_id = ? AND member_type = 'user'
                        ORDER BY member_id LIMIT ?
                        """
                ),
                arguments: [tenantId, groupId, limit]
            )
        }
    }

    public func devices(tenantId: String, ofUsers userIds: [String]) async throws -> [Device] {
        try await database.pool.read { db in
            try RawSelect(
                db,
                sql: """
                    SELECT \(Device.columns) FROM devices WHERE tenant_id = ? AND user_id IN (SELECT value FROM json_each(?))
                    ORDER BY user_id, id
                    """
            )
            .all([.text(tenantId), .text(jsonArray(userIds))], read: Device.init(row:))
        }
    }
}

/// A JSON array of strings, for `json_each(?)` parameters.
func jsonArray(_ values: [String]) -> String {
    "[" + values.map { JSONText.quoted($0) }.joined(separator: ",") + "]"
}

extension Device {
    /// The columns `init(row:)` reads, in its order (read by index: a fan-out decodes 200,000 rows).
    static let columns = "id, tenant_id, user_id, platform, enrolled, company_portal, notifications_allowed, google_play, push_token"

    init?(row: RawRow) {
        guard let id = row.text(0), let tenantId = row.text(1), let platform = row.text(3).flatMap(Platform.init(rawValue:)) else {
            return nil
        }
        self.init(
            id: id,
            tenantId: tenantId,
            userId: row.text(2),
            platform: platform,
            enrolled: row.bool(4),
            companyPortalInstalled: row.bool(5),
            notificationsAllowed: row.bool(6),
            googlePlayServices: row.bool(7),
            pushToken: row.text(8)
        )
    }
}
