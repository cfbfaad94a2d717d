public import Foundation

/// The directory import file (docs/contracts.md): upserted by id; a group's member list replaces its members.
public struct DirectoryFile: Codable, Sendable, Equatable {
    public var tenants: [Tenant]
    public var users: [User]
    public var devices: [Device]
    public var groups: [Group]
    public var roles: [Role]
    public var principals: [Principal]

    public init(
        tenants: [Tenant] = [],
        users: [User] = [],
        devices: [Device] = [],
        groups: [Group] = [],
        roles: [Role] = [],
        principals: [Principal] = []
    ) {
        self.tenants = tenants
        self.users = users
        self.devices = devices
        self.groups = groups
        self.roles = roles
        self.principals = principals
    }

    private enum CodingKeys: String, CodingKey, CaseIterable {
        case tenants, users, devices, groups, roles, principals
    }

    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        tenants = try c.decodeIfPresent([Tenant].self, forKey: .tenants) ?? []
        users = try c.decodeIfPresent([User].self, forKey: .users) ?? []
        devices = try c.decodeIfPresent([Device].self, forKey: .devices) ?? []
        groups = try c.decodeIfPresent([Group].self, forKey: .groups) ?? []
        roles = try c.decodeIfPresent([Role].self, forKey: .roles) ?? []
        principals = try c.decodeIfPresent([Principal].self, forKey: .principals) ?? []
    }

    /// Parses and checks a file; every error names the path of the bad element,
    /// such as `devices[3].platform: unknown platform "blackberry"`.
    public static func parse(_ data: Data) throws(DirectoryFileError) -> DirectoryFile {
        let tree: Any
        do {
            tree = try JSONSerialization.jsonObject(with: data)
        } catch {
            throw DirectoryFileError(path: "", message: "not valid JSON")
        }
        try checkShape(tree)
        let file: DirectoryFile
        do {
            file = try JSONDecoder().decode(DirectoryFile.self, from: data)
        } catch let error as DecodingError {
            throw DirectoryFileError(error)
        } catch {
            throw DirectoryFileError(path: "", message: "cannot be read")
        }
        try file.checkValues()
        return file
    }

    /// Unknown keys and wrong platforms, found on the raw tree so the message can say exactly what was wrong.
    private static func checkShape(_ tree: Any) throws(DirectoryFileError) {
        guard let root = tree as? [String: Any] else {
            throw DirectoryFileError(path: "", message: "the file must be a JSON object")
        }
        let known: [String: Set<String>] = [
            "tenants": ["id", "name"],
            "users": ["id", "tenantId", "displayName"],
            "devices": [
                "id", "tenantId", "userId", "platform", "enrolled", "companyPortalInstalled",
                "notificationsAllowed", "googlePlayServices", "pushToken",
            ],
            "groups": ["id", "tenantId", "displayName", "members"],
            "roles": ["id", "tenantId", "permissions"],
            "principals": ["id", "tenantId", "roles"],
        ]
        for key in root.keys.sorted() where known[key] == nil {
            throw DirectoryFileError(path: key, message: "unknown section (expected one of \(known.keys.sorted().joined(separator: ", ")))")
        }
        for (section, fields) in known {
            guard let value = root[section] else { continue }
            guard let items = value as? [Any] else {
                throw DirectoryFileError(path: section, message: "must be an array")
            }
            for (index, item) in items.enumerated() {
                let path = "\(section)[\(index)]"
                guard let object = item as? [String: Any] else {
                    throw DirectoryFileError(path: path, message: "must be an object")
                }
                for key in object.keys.sorted() where !fields.contains(key) {
                    throw DirectoryFileError(path: "\(path).\(key)", message: "unknown field")
                }
                if section == "devices", let platform = object["platform"] as? String, Platform(rawValue: platform) == nil {
                    throw DirectoryFileError(
                        path: "\(path).platform",
                        message:
                            "unknown platform \"\(platform)\" (expected one of \(Platform.allCases.map(\.rawValue).joined(separator: ", ")))"
                    )
                }
                if section == "groups", let members = object["members"] as? [Any] {
                    for (m, member) in members.enumerated() {
                        guard let fields = member as? [String: Any] else { continue }
                        for key in fields.keys.sorted() where key != "type" && key != "id" {
                            throw DirectoryFileError(path: "\(path).members[\(m)].\(key)", message: "unknown field")
                        }
                        if let type = fields["type"] as? String, MemberKind(rawValue: type) == nil {
                            throw DirectoryFileError(
                                path: "\(path).members[\(m)].type",
                                message: "unknown member type \"\(type)\" (expected user, device or group)"
                            )
                        }
                    }
                }
            }
        }
    }

    /// Checks that need the decoded values: non-empty ids, known permissions, no duplicate ids.
    private func checkValues() throws(DirectoryFileError) {
        func requireId(_ id: String, _ path: String) throws(DirectoryFileError) {
            if id.trimmingWhitespace().isEmpty { throw DirectoryFileError(path: path, message: "must not be empty") }
        }
        // Ids are unique within a tenant: two tenants may both have a "u-1".
        func unique(_ keys: [(tenant: String, id: String)], _ section: String) throws(DirectoryFileError) {
            var seen = [String: Int]()
            for (i, key) in keys.enumerated() {
                if let first = seen[key.tenant + "\u{0}" + key.id] {
                    let scope = key.tenant.isEmpty ? "" : " in tenant \"\(key.tenant)\""
                    throw DirectoryFileError(
                        path: "\(section)[\(i)].id",
                        message: "duplicate id \"\(key.id)\"\(scope) (also \(section)[\(first)])"
                    )
                }
                seen[key.tenant + "\u{0}" + key.id] = i
            }
        }
        for (i, t) in tenants.enumerated() { try requireId(t.id, "tenants[\(i)].id") }
        for (i, u) in users.enumerated() {
            try requireId(u.id, "users[\(i)].id")
            try requireId(u.tenantId, "users[\(i)].tenantId")
        }
        for (i, d) in devices.enumerated() {
            try requireId(d.id, "devices[\(i)].id")
            try requireId(d.tenantId, "devices[\(i)].tenantId")
        }
        for (i, g) in groups.enumerated() {
            try requireId(g.id, "groups[\(i)].id")
            try requireId(g.tenantId, "groups[\(i)].tenantId")
            for (m, member) in (g.members ?? []).enumerated() { try requireId(member.id, "groups[\(i)].members[\(m)].id") }
        }
        for (i, r) in roles.enumerated() {
            try requireId(r.id, "roles[\(i)].id")
            for (p, permission) in r.permissions.enumerated() where Permission(rawValue: permission) == nil {
                throw DirectoryFileError(
                    path: "roles[\(i)].permissions[\(p)]",
                    message:
                        "unknown permission \"\(permission)\" (expected one of \(Permission.allCases.map(\.rawValue).joined(separator: ", ")))"
                )
            }
        }
        for (i, p) in principals.enumerated() { try requireId(p.id, "principals[\(i)].id") }
        try unique(tenants.map { ("", $0.id) }, "tenants")
        try unique(users.map { ($0.tenantId, $0.id) }, "users")
        try unique(devices.map { ($0.tenantId, $0.id) }, "devices")
        try unique(groups.map { ($0.tenantId, $0.id) }, "groups")
        try unique(roles.map { ($0.tenantId, $0.id) }, "roles")
        try unique(principals.map { ($0.tenantId, $0.id) }, "principals")
    }
}

/// A bad directory file, with the path of the element at fault.
public struct DirectoryFileError: Error, Sendable, Equatable, CustomStringConvertible {
    /// `devices[3].platform`; empty for the whole file.
    public var path: String
    public var message: String

    public init(path: String, message: String) {
        self.path = path
        self.message = message
    }

    init(_ error: DecodingError) {
        let problem = DecodingProblem.describe(error)
        self.init(path: problem.path, message: problem.message)
    }

    public var description: String { path.isEmpty ? message : "\(path): \(message)" }
}
