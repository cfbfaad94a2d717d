public import HeraldCore

/// Writes the directory: whole files and single membership changes. Each call is all or nothing:
/// a bad file changes nothing, and its error names the element at fault.
public protocol DirectoryWriter: Sendable {
    /// Upserts a parsed file by id. Every reference (a user's tenant, a device's user, a group
    /// member, a principal's role) must exist in the file or already in the tenant.
    /// - Parameter replacingTenants: first removes the directory of every tenant the file lists,
    ///   so those tenants end up exactly as the file says; their notification history is kept.
    @discardableResult
    func importFile(_ file: DirectoryFile, replacingTenants: Bool) async throws -> DirectoryImportSummary
    /// Adds a member to a group of the tenant; an unknown group or member is an error naming it.
    func addMember(tenantId: String, groupId: String, member: GroupMember) async throws
    /// Removes a member from a group of the tenant; an unknown group or member is an error naming it.
    func removeMember(tenantId: String, groupId: String, member: GroupMember) async throws
}

extension DirectoryWriter {
    /// Upserts a parsed file by id (see `importFile(_:replacingTenants:)`).
    @discardableResult
    public func importFile(_ file: DirectoryFile) async throws -> DirectoryImportSummary {
        try await importFile(file, replacingTenants: false)
    }
}

public struct DirectoryImportSummary: Sendable, Equatable, CustomStringConvertible {
    public var tenants = 0
    public var users = 0
    public var devices = 0
    public var groups = 0
    public var roles = 0
    public var principals = 0

    public init(tenants: Int = 0, users: Int = 0, devices: Int = 0, groups: Int = 0, roles: Int = 0, principals: Int = 0) {
        self.tenants = tenants
        self.users = users
        self.devices = devices
        self.groups = groups
        self.roles = roles
        self.principals = principals
    }

    public var description: String {
        "\(tenants) tenants, \(users) users, \(devices) devices, \(groups) groups, \(roles) roles, \(principals) principals"
    }
}

extension DirectoryImportSummary {
    /// What importing `file` writes: its elements, counted.
    public init(of file: DirectoryFile) {
        self.init(
            tenants: file.tenants.count,
            users: file.users.count,
            devices: file.devices.count,
            groups: file.groups.count,
            roles: file.roles.count,
            principals: file.principals.count
        )
    }
}
