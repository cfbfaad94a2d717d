import GRDB
import HeraldCore
public import Store

extension SQLiteDirectoryStore {
    private static let groupColumns = """
        g.id, g.display_name,
        (SELECT COUNT(*) FROM group_members m WHERE m.tenant_id = g.tenant_id AND m.group_id = g.id AND m.member_type = 'user'),
        (SELECT COUNT(*) FROM group_members m WHERE m.tenant_id = g.tenant_id AND m.group_id = g.id AND m.member_type = 'group')
        """

    public func groups(tenantId: String, matching search: String, limit: Int) async throws -> [GroupSummary] {
        let pattern =
            "%"
            + search.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "%", with: "\\%")
            .replacingOccurrences(of: "_", with: "\\_") + "%"
        return try await database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.groupColumns) FROM groups g
                    WHERE g.tenant_id = ? AND (g.display_name LIKE ? ESCAPE '\\' OR g.id LIKE ? ESCAPE '\\')
                    ORDER BY g.display_name COLLATE NOCASE, g.id LIMIT ?
                    """,
                arguments: [tenantId, pattern, pattern, limit]
            )
            .map(GroupSummary.init(row:))
        }
    }

    public func groups(tenantId: String, ids: [String]) async throws -> [GroupSummary] {
        let found = try await database.pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.groupColumns) FROM groups g WHERE g.tenant_id = ? AND g.id IN (SELECT value FROM json_each(?))
                    """,
                arguments: [tenantId, jsonArray(ids)]
            )
            .map(GroupSummary.init(row:))
        }
        return found.ordered(by: ids)
    }

    public func managedDevices(tenantId: String) async throws -> [ManagedDevice] {
        try await managedDevices(tenantId: tenantId, deviceId: nil)
    }

    public func managedDevice(tenantId: String, deviceId: String) async throws -> ManagedDevice? {
        try await managedDevices(tenantId: tenantId, deviceId: deviceId).first
    }

    /// The tenant's devices with their users' names: all of them, or the one with `deviceId`.
    private func managedDevices(tenantId: String, deviceId: String?) async throws -> [ManagedDevice] {
        let columns = Device.columns.split(separator: ",").map { "d." + $0.trimmingCharacters(in: .whitespaces) }.joined(separator: ", ")
        return try await database.pool.read { db in
            try RawSelect(
                db,
                sql: """
                    SELECT \(columns), u.display_name FROM devices d
                    LEFT JOIN users u ON u.tenant_id = d.tenant_id AND u.id = d.user_id
                    WHERE d.tenant_id = ? AND (?2 IS NULL OR d.id = ?2) ORDER BY u.display_name COLLATE NOCASE, d.user_id, d.id
                    """
            )
            .all([.text(tenantId), deviceId.map(RawArgument.text) ?? .null]) { row in
                Device(row: row).map { ManagedDevice(device: $0, userDisplayName: row.text(9)) }
            }
        }
    }
}

extension GroupSummary {
    init(row: Row) {
        self.init(id: row[0], displayName: row[1], users: row[2], nestedGroups: row[3])
    }
}
