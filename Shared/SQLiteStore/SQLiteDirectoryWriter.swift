import GRDB
public import HeraldCore
public import Store

/// The SQLite directory writer: each file or membership change is one transaction.
public struct SQLiteDirectoryWriter: DirectoryWriter {
    let database: HeraldDatabase

    public init(database: HeraldDatabase) { self.database = database }

    /// The tables that hold a tenant's directory (not its notifications, keys or throttle log).
    static let directoryTables = [
        "users", "devices", "groups", "group_members", "roles", "role_permissions", "principals", "principal_roles",
    ]

    /// What an import wrote.
    /// Upserts a parsed file by id. Every reference (a user's tenant, a device's user,
    /// a group member, a principal's role) must exist in the file or already in the tenant;
    /// otherwise the error names the element and nothing is written.
    /// - Parameter replacingTenants: first removes the directory (users, devices, groups, roles,
    ///   principals) of every tenant the file lists, in the same transaction, so those tenants
    ///   end up exactly as the file says; their notification history is kept.
    @discardableResult
    public func importFile(_ file: DirectoryFile, replacingTenants: Bool = false) async throws -> DirectoryImportSummary {
        try await database.pool.write { db in
            if replacingTenants {
                for t in file.tenants {
                    for table in Self.directoryTables {
                        try db.execute(sql: "DELETE FROM \(table) WHERE tenant_id = ?", arguments: [t.id])
                    }
                }
            }
            var tenants = TenantCheck()
            for t in file.tenants {
                try db.cachedStatement(
                    sql: "INSERT INTO tenants (id, name) VALUES (?, ?) ON CONFLICT (id) DO UPDATE SET name = excluded.name"
                ).execute(arguments: [t.id, t.name])
            }
            for (i, u) in file.users.enumerated() {
                try tenants.require(db, u.tenantId, "users[\(i)].tenantId")
                try db.cachedStatement(
                    sql: """
                        INSERT INTO users (tenant_id, id, display_name) VALUES (?, ?, ?)
                        ON CONFLICT (tenant_id, id) DO UPDATE SET display_name = excluded.display_name
                        """
                ).execute(arguments: [u.tenantId, u.id, u.displayName])
            }
            for (i, d) in file.devices.enumerated() {
                try tenants.require(db, d.tenantId, "devices[\(i)].tenantId")
                if let userId = d.userId {
                    try requireMember(db, d.tenantId, .user, userId, "devices[\(i)].userId")
                }
                try db.cachedStatement(
                    sql: """
                        INSERT INTO devices (tenant_id, id, user_id, platform, enrolled, company_portal, notifications_allowed, google_play, push_token)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                        ON CONFLICT (tenant_id, id) DO UPDATE SET user_id = excluded.user_id, platform = excluded.platform,
                          enrolled = excluded.enrolled, company_portal = excluded.company_portal,
                          notifications_allowed = excluded.notifications_allowed, google_play = excluded.google_play,
                          push_token = excluded.push_token
                        """
                ).execute(arguments: [
                    d.tenantId, d.id, d.userId, d.platform.rawValue, d.enrolled, d.companyPortalInstalled,
                    d.notificationsAllowed, d.googlePlayServices, d.pushToken,
                ])
            }
            for (i, g) in file.groups.enumerated() {
                try tenants.require(db, g.tenantId, "groups[\(i)].tenantId")
                try db.cachedStatement(
                    sql: """
                        INSERT INTO groups (tenant_id, id, display_name) VALUES (?, ?, ?)
                        ON CONFLICT (tenant_id, id) DO UPDATE SET display_name = excluded.display_name
                        """
                ).execute(arguments: [g.tenantId, g.id, g.displayName])
            }
            // Members after all groups exist, so a file may nest groups in any order.
            for (i, g) in file.groups.enumerated() {
                guard let members = g.members else { continue }
                try db.cachedStatement(sql: "DELETE FROM group_members WHERE tenant_id = ? AND group_id = ?").execute(arguments: [
                    g.tenantId, g.id,
                ])
                for (m, member) in members.enumerated() {
                    try requireMember(db, g.tenantId, member.type, member.id, "groups[\(i)].members[\(m)].id")
                    try db.cachedStatement(sql: "INSERT OR IGNORE INTO group_members VALUES (?, ?, ?, ?)").execute(arguments: [
                        g.tenantId, g.id, member.type.rawValue, member.id,
                    ])
                }
            }
            for (i, r) in file.roles.enumerated() {
                try tenants.require(db, r.tenantId, "roles[\(i)].tenantId")
                try db.cachedStatement(sql: "INSERT OR IGNORE INTO roles (tenant_id, id) VALUES (?, ?)").execute(arguments: [
                    r.tenantId, r.id,
                ])
                try db.cachedStatement(sql: "DELETE FROM role_permissions WHERE tenant_id = ? AND role_id = ?").execute(arguments: [
                    r.tenantId, r.id,
                ])
                for p in Set(r.permissions) {
                    try db.cachedStatement(sql: "INSERT INTO role_permissions VALUES (?, ?, ?)").execute(arguments: [r.tenantId, r.id, p])
                }
            }
            for (i, p) in file.principals.enumerated() {
                try tenants.require(db, p.tenantId, "principals[\(i)].tenantId")
                try db.cachedStatement(sql: "INSERT OR IGNORE INTO principals (tenant_id, id) VALUES (?, ?)").execute(arguments: [
                    p.tenantId, p.id,
                ])
                try db.cachedStatement(sql: "DELETE FROM principal_roles WHERE tenant_id = ? AND principal_id = ?").execute(arguments: [
                    p.tenantId, p.id,
                ])
                for (r, role) in p.roles.enumerated() {
                    guard
                        try Bool.fetchOne(db, sql: "SELECT 1 FROM roles WHERE tenant_id = ? AND id = ?", arguments: [p.tenantId, role])
                            != nil
                    else {
                        throw DirectoryFileError(
                            path: "principals[\(i)].roles[\(r)]",
                            message: "unknown role \"\(role)\" in tenant \"\(p.tenantId)\""
                        )
                    }
                    try db.cachedStatement(sql: "INSERT OR IGNORE INTO principal_roles VALUES (?, ?, ?)").execute(arguments: [
                        p.tenantId, p.id, role,
                    ])
                }
            }
            return DirectoryImportSummary(of: file)
        }
    }

    /// Adds a member to a group; both must exist in the tenant.
    public func addMember(tenantId: String, groupId: String, member: GroupMember) async throws {
        try await database.pool.write { db in
            try requireMember(db, tenantId, .group, groupId, "--group")
            try requireMember(db, tenantId, member.type, member.id, "--\(member.type.rawValue)")
            try db.cachedStatement(sql: "INSERT OR IGNORE INTO group_members VALUES (?, ?, ?, ?)").execute(arguments: [
                tenantId, groupId, member.type.rawValue, member.id,
            ])
        }
    }

    /// Removes a member from a group; fails when it is not a member.
    public func removeMember(tenantId: String, groupId: String, member: GroupMember) async throws {
        try await database.pool.write { db in
            try requireMember(db, tenantId, .group, groupId, "--group")
            try db.cachedStatement(
                sql: "DELETE FROM group_members WHERE tenant_id = ? AND group_id = ? AND member_type = ? AND member_id = ?"
            ).execute(arguments: [tenantId, groupId, member.type.rawValue, member.id])
            if db.changesCount == 0 {
                throw DirectoryFileError(
                    path: "--\(member.type.rawValue)",
                    message: "\(member.type.rawValue) \"\(member.id)\" is not a member of group \"\(groupId)\""
                )
            }
        }
    }

    /// Remembers the tenants already found within one import, so a file of 100,000 users
    /// looks each tenant up once instead of once per row.
    private struct TenantCheck {
        var known = Set<String>()

        mutating func require(_ db: Database, _ tenantId: String, _ path: String) throws {
            if known.contains(tenantId) { return }
            guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM tenants WHERE id = ?"), arguments: [tenantId]) != nil else {
                throw DirectoryFileError(path: path, message: "unknown tenant \"\(tenantId)\"")
            }
            known.insert(tenantId)
        }
    }

    private func requireMember(_ db: Database, _ tenantId: String, _ kind: MemberKind, _ id: String, _ path: String) throws {
        let table =
            switch kind {
            case .user: "users"
            case .device: "devices"
            case .group: "groups"
            }
        guard
            try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM \(table) WHERE tenant_id = ? AND id = ?"), arguments: [tenantId, id])
                != nil
        else {
            throw DirectoryFileError(path: path, message: "unknown \(kind.rawValue) \"\(id)\" in tenant \"\(tenantId)\"")
        }
    }
}
