public import HeraldCore

/// A group as the console lists it.
public struct GroupSummary: Sendable, Equatable {
    public var id: String
    public var displayName: String
    /// Users who are direct members (nested groups' users are reached at delivery).
    public var users: Int
    /// Groups nested directly in this one; they do not count toward the 25 of a send.
    public var nestedGroups: Int

    public init(id: String, displayName: String, users: Int, nestedGroups: Int) {
        self.id = id
        self.displayName = displayName
        self.users = users
        self.nestedGroups = nestedGroups
    }
}

/// A device with its user's display name, for the console's device list.
public struct ManagedDevice: Sendable, Equatable {
    public var device: Device
    public var userDisplayName: String?

    public init(device: Device, userDisplayName: String?) {
        self.device = device
        self.userDisplayName = userDisplayName
    }
}

extension [GroupSummary] {
    /// These groups in the order of `ids`; an id with no group is left out (the order
    /// `DirectoryStore.groups(tenantId:ids:)` answers in, whatever order the engine found them in).
    public func ordered(by ids: [String]) -> [GroupSummary] {
        let byId = Dictionary(map { ($0.id, $0) }, uniquingKeysWith: { first, _ in first })
        return ids.compactMap { byId[$0] }
    }
}
