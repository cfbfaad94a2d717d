/// A tenant: the boundary no caller crosses.
public struct Tenant: Codable, Sendable, Equatable {
    public var id: String
    public var name: String
    public init(id: String, name: String) {
        self.id = id
        self.name = name
    }
}

/// A directory user; notifications go to users' devices.
public struct User: Codable, Sendable, Equatable {
    public var id: String
    public var tenantId: String
    public var displayName: String
    public init(id: String, tenantId: String, displayName: String) {
        self.id = id
        self.tenantId = tenantId
        self.displayName = displayName
    }
}

/// A managed device and the facts that decide whether it can receive a notification.
public struct Device: Codable, Sendable, Equatable {
    public var id: String
    public var tenantId: String
    public var userId: String?
    public var platform: Platform
    public var enrolled: Bool
    public var companyPortalInstalled: Bool
    public var notificationsAllowed: Bool
    public var googlePlayServices: Bool
    public var pushToken: String?

    public init(
        id: String,
        tenantId: String,
        userId: String?,
        platform: Platform,
        enrolled: Bool,
        companyPortalInstalled: Bool,
        notificationsAllowed: Bool,
        googlePlayServices: Bool,
        pushToken: String?
    ) {
        self.id = id
        self.tenantId = tenantId
        self.userId = userId
        self.platform = platform
        self.enrolled = enrolled
        self.companyPortalInstalled = companyPortalInstalled
        self.notificationsAllowed = notificationsAllowed
        self.googlePlayServices = googlePlayServices
        self.pushToken = pushToken
    }
}

/// What a group member is.
public enum MemberKind: String, Codable, Sendable, CaseIterable {
    case user, device, group
}

/// One member of a group.
public struct GroupMember: Codable, Sendable, Hashable {
    public var type: MemberKind
    public var id: String
    public init(type: MemberKind, id: String) {
        self.type = type
        self.id = id
    }
}

/// A directory group; members may be users, devices or other groups.
public struct Group: Codable, Sendable, Equatable {
    public var id: String
    public var tenantId: String
    public var displayName: String
    /// nil in an import file means "leave the members as they are".
    public var members: [GroupMember]?
    public init(id: String, tenantId: String, displayName: String, members: [GroupMember]?) {
        self.id = id
        self.tenantId = tenantId
        self.displayName = displayName
        self.members = members
    }
}

/// A role: a named set of permissions within a tenant.
public struct Role: Codable, Sendable, Equatable {
    public var id: String
    public var tenantId: String
    public var permissions: [String]
    public init(id: String, tenantId: String, permissions: [String]) {
        self.id = id
        self.tenantId = tenantId
        self.permissions = permissions
    }
}

/// A caller (an administrator or an upstream system) and its roles.
public struct Principal: Codable, Sendable, Equatable {
    public var id: String
    public var tenantId: String
    public var roles: [String]
    public init(id: String, tenantId: String, roles: [String]) {
        self.id = id
        self.tenantId = tenantId
        self.roles = roles
    }
}
