import Foundation
public import HeraldCore
import Logging
import PostgresNIO
public import Store

/// The PostgreSQL directory. Every query names the tenant, at every step of a group expansion too.
public struct PostgresDirectoryStore: DirectoryStore {
    let database: PostgresEngine
    /// A device send's reads (`permissionsAndDevice`) of concurrent requests, in one statement.
    private let deviceSendReads: GroupCommit<DeviceSendRead, (permissions: Set<Permission>?, device: Device?)>

    /// The most requests one statement reads for.
    static let readBatchLimit = 64
    /// The most such statements in flight at once. A read waits for one of them only while both
    /// are out; each costs the server about as much alone as with many requests in it.
    static let readBatchesInFlight = 2

    public init(database: PostgresEngine) {
        self.database = database
        deviceSendReads = GroupCommit(limit: Self.readBatchLimit, parallel: Self.readBatchesInFlight) { reads in
            try await database.bounded { try await Self.permissionsAndDevices(reads, in: database) }
        }
    }

    static let deviceColumns =
        "d.id, d.tenant_id, d.user_id, d.platform, d.enrolled, d.company_portal, d.notifications_allowed, d.google_play, d.push_token"

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

    /// Batched with those of concurrent requests (`GroupCommit`): one statement reads for all of
    /// them, each answer from its own rows. A read that finds a batch in flight goes in the next,
    /// which starts after the call, so what it sees is never older than the call.
    public func permissionsAndDevice(
        tenantId: String,
        principalId: String,
        deviceId: String
    ) async throws
        -> (permissions: Set<Permission>?, device: Device?)
    {
        try await deviceSendReads.submit(DeviceSendRead(tenantId: tenantId, principalId: principalId, deviceId: deviceId))
    }

    /// The answers to `reads`, in order, from one statement (`PermissionsAndDevicesQuery`).
    private static func permissionsAndDevices(
        _ reads: [DeviceSendRead],
        in database: PostgresEngine
    ) async throws
        -> [(permissions: Set<Permission>?, device: Device?)]
    {
        var answers = [(permissions: Set<Permission>?, device: Device?)](repeating: (nil, nil), count: reads.count)
        for try await row in try await database.run(PermissionsAndDevicesQuery(reads)) {
            var columns = RowColumns(row)
            let index = Int(try columns.next(Int64.self)) - 1
            guard answers.indices.contains(index) else { throw PostgresStoreError.noAnswer("a row of no request read") }
            // A row says the principal exists; its permission is NULL when it has none. Inserted in
            // place: a copy taken out and put back copied the set's storage on every row.
            if answers[index].permissions == nil { answers[index].permissions = [] }
            if let permission = try columns.next(String?.self).flatMap(Permission.init(rawValue:)) {
                answers[index].permissions?.insert(permission)
            }
            if answers[index].device == nil { answers[index].device = try columns.device() }
        }
        return answers
    }

    public func existingGroups(tenantId: String, groupIds: [String]) async throws -> Set<String> {
        try await database.bounded {
            Set(try await strings(database.run(ExistingGroupsQuery(tenantId: tenantId, groupIds: groupIds))))
        }
    }

    public func device(tenantId: String, deviceId: String) async throws -> Device? {
        try await database.bounded {
            try await devices(database.run(DeviceQuery(tenantId: tenantId, id: deviceId))).first
        }
    }

    public func reachedGroups(tenantId: String, from groupIds: [String]) async throws -> [String] {
        try await database.bounded {
            try await strings(database.run(ReachedGroupsQuery(tenantId: tenantId, groupIds: groupIds)))
        }
    }

    public func userMembers(tenantId: String, ofGroup groupId: String, after: String?, limit: Int) async throws -> [String] {
        try await database.bounded {
            let limit = Int32(clamping: limit)
            if let after {
                return try await strings(
                    database.run(UserMembersAfterQuery(tenantId: tenantId, groupId: groupId, after: after, limit: limit))
                )
            }
            return try await strings(database.run(UserMembersQuery(tenantId: tenantId, groupId: groupId, limit: limit)))
        }
    }

    public func devices(tenantId: String, ofUsers userIds: [String]) async throws -> [Device] {
        try await database.bounded {
            var found: [Device] = []
            for try await row in try await database.run(DevicesOfUsersQuery(tenantId: tenantId, userIds: userIds)) {
                var columns = RowColumns(row)
                // No device at all: one row of NULL arrays.
                guard let ids = try columns.next([String]?.self) else { break }
                let users = try columns.next([String].self)
                let platforms = try columns.next([String].self)
                let enrolled = try columns.next([Bool].self)
                let companyPortal = try columns.next([Bool].self)
                let notificationsAllowed = try columns.next([Bool].self)
                let googlePlay = try columns.next([Bool].self)
                let tokens = try columns.next([String].self)
                let hasToken = try columns.next([Bool].self)
                found.reserveCapacity(ids.count)
                for i in ids.indices {
                    guard let platform = Platform(rawValue: platforms[i]) else { continue }
                    found.append(
                        Device(
                            id: ids[i],
                            tenantId: tenantId,
                            userId: users[i],
                            platform: platform,
                            enrolled: enrolled[i],
                            companyPortalInstalled: companyPortal[i],
                            notificationsAllowed: notificationsAllowed[i],
                            googlePlayServices: googlePlay[i],
                            pushToken: hasToken[i] ? tokens[i] : nil
                        )
                    )
                }
            }
            return found
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
        for try await row in rows {
            var columns = RowColumns(row)
            guard let device = try columns.device() else { continue }
            found.append(ManagedDevice(device: device, userDisplayName: try columns.next(String?.self)))
        }
        return found
    }

    /// The first column of every row, as text.
    private func strings(_ rows: some AsyncSequence<PostgresRow, any Error>) async throws -> [String] {
        var found: [String] = []
        for try await row in rows {
            var columns = RowColumns(row)
            found.append(try columns.next(String.self))
        }
        return found
    }

    private func devices(_ rows: some AsyncSequence<PostgresRow, any Error>) async throws -> [Device] {
        var found: [Device] = []
        for try await row in rows {
            var columns = RowColumns(row)
            if let device = try columns.device() { found.append(device) }
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
}
