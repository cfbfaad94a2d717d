public import HeraldCore

/// What ingest and the dispatcher read from the directory. Every call is scoped
/// to one tenant: an id of another tenant is not found, exactly like an unknown one.
public protocol DirectoryStore: GroupMembership {
    /// The permissions a principal holds through its roles now; nil when the principal does not exist.
    func permissions(tenantId: String, principalId: String) async throws -> Set<Permission>?
    /// Which of `groupIds` exist in the tenant.
    func existingGroups(tenantId: String, groupIds: [String]) async throws -> Set<String>
    /// One device of the tenant.
    func device(tenantId: String, deviceId: String) async throws -> Device?
    /// `permissions(tenantId:principalId:)` and `device(tenantId:deviceId:)` in one call, so that an
    /// engine across a network answers a device send's two reads in one round trip.
    func permissionsAndDevice(
        tenantId: String,
        principalId: String,
        deviceId: String
    ) async throws
        -> (permissions: Set<Permission>?, device: Device?)
    /// Every device of the given users in the tenant.
    func devices(tenantId: String, ofUsers userIds: [String]) async throws -> [Device]
    /// The tenant's groups whose id or name contains `search` (all when empty), by name, at most `limit`.
    func groups(tenantId: String, matching search: String, limit: Int) async throws -> [GroupSummary]
    /// Groups of the tenant by id, in the order given; unknown ids are left out.
    func groups(tenantId: String, ids: [String]) async throws -> [GroupSummary]
    /// Every managed device of the tenant with its user's name, by user then device.
    func managedDevices(tenantId: String) async throws -> [ManagedDevice]
    /// One managed device of the tenant with its user's name; nil for an unknown id or another tenant's.
    func managedDevice(tenantId: String, deviceId: String) async throws -> ManagedDevice?
}

extension DirectoryStore {
    /// The two reads one after the other: for an engine in the process, where a call costs no round trip.
    public func permissionsAndDevice(
        tenantId: String,
        principalId: String,
        deviceId: String
    ) async throws
        -> (permissions: Set<Permission>?, device: Device?)
    {
        let permissions = try await permissions(tenantId: tenantId, principalId: principalId)
        guard permissions != nil else { return (nil, nil) }
        return (permissions, try await device(tenantId: tenantId, deviceId: deviceId))
    }
}
