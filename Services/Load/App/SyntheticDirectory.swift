public import HeraldCore

/// The size and seed of a synthetic directory. The same shape always gives the same
/// directory, so `herald-load seed` and `herald-load run` can be separate invocations.
public struct DirectoryShape: Sendable, Equatable {
    public var seed: UInt64
    public var tenants: Int
    public var usersPerTenant: Int
    public var groupsPerTenant: Int
    /// Prefix of every tenant id, so several shapes can live in one database side by side.
    public var tenantPrefix: String

    public init(seed: UInt64 = 42, tenants: Int = 40, usersPerTenant: Int = 100, groupsPerTenant: Int = 12, tenantPrefix: String = "load-")
    {
        self.seed = seed
        self.tenants = tenants
        self.usersPerTenant = usersPerTenant
        self.groupsPerTenant = groupsPerTenant
        self.tenantPrefix = tenantPrefix
    }
}

/// A reproducible directory for load tests, and what it should yield: which devices a
/// group send reaches and on which platform queue each envelope belongs.
///
/// The expectations are worked out here from the generator's own data (a breadth-first
/// walk of the groups and the eligibility rules of the product documentation), not with
/// Herald's store, so a load run checks Herald against a second, independent reading.
public struct SyntheticDirectory: Sendable {
    /// What one tenant offers a load run.
    public struct TenantPlan: Sendable {
        public var id: String
        /// A principal holding both send permissions.
        public var principal: String
        public var groupIds: [String]
        /// Devices that may receive a direct send.
        public var eligibleDeviceIds: [String]
    }

    public let shape: DirectoryShape
    public let file: DirectoryFile
    public let tenants: [TenantPlan]
    /// Queue routing of every eligible device: `"ios"` or `"android"`, keyed by tenant then device.
    public let routes: [String: [String: PushRoute]]
    /// Eligible devices reached by each group (transitively), keyed by tenant then group.
    private let reach: [String: [String: Set<String>]]

    /// Builds the directory of `shape`.
    public init(shape: DirectoryShape) {
        self.shape = shape
        var random = SplitMix64(seed: shape.seed)
        var file = DirectoryFile(tenants: [])
        var tenants: [TenantPlan] = []
        var routes: [String: [String: PushRoute]] = [:]
        var reach: [String: [String: Set<String>]] = [:]

        for t in 0..<shape.tenants {
            let tenant = shape.tenantPrefix + "t\(pad(t, 4))"
            file.tenants.append(Tenant(id: tenant, name: "Load tenant \(t)"))
            var devicesOfUser: [String: [String]] = [:]
            var eligible: [String: PushRoute] = [:]
            var deviceIds: [String] = []
            for u in 0..<shape.usersPerTenant {
                let user = "u\(pad(u, 5))"
                file.users.append(User(id: user, tenantId: tenant, displayName: "User \(u)"))
                for d in 0..<Self.deviceCount(&random) {
                    let device = Self.device(id: "\(user)-d\(d)", tenant: tenant, user: user, &random)
                    file.devices.append(device)
                    deviceIds.append(device.id)
                    devicesOfUser[user, default: []].append(device.id)
                    if let route = Self.route(of: device) { eligible[device.id] = route }
                }
            }

            // Groups of overlapping random users, a few device members (ignored by the rules),
            // chains of nesting, and one two-group cycle.
            var groups: [Group] = []
            let users = (0..<shape.usersPerTenant).map { "u\(pad($0, 5))" }
            for g in 0..<shape.groupsPerTenant {
                let size = max(1, shape.usersPerTenant * Int(random.next(in: 3...12)) / 100)
                var members = Set<GroupMember>()
                for _ in 0..<size { members.insert(GroupMember(type: .user, id: users[Int(random.next(below: UInt64(users.count)))])) }
                if !deviceIds.isEmpty, random.chance(0.3) {
                    members.insert(GroupMember(type: .device, id: deviceIds[Int(random.next(below: UInt64(deviceIds.count)))]))
                }
                if g + 1 < shape.groupsPerTenant, random.chance(0.35) {
                    members.insert(GroupMember(type: .group, id: "g\(pad(g + 1, 3))"))
                }
                groups.append(
                    Group(
                        id: "g\(pad(g, 3))",
                        tenantId: tenant,
                        displayName: "Group \(g)",
                        members: members.sorted { ($0.type.rawValue, $0.id) < ($1.type.rawValue, $1.id) }
                    )
                )
            }
            if groups.count >= 2 {
                let last = groups.count - 1
                let last2 = groups.count - 2
                let (a, b) = (groups[last2].id, groups[last].id)
                groups[last].members?.append(GroupMember(type: .group, id: a))
                groups[last2].members?.append(GroupMember(type: .group, id: b))
            }
            file.groups += groups

            let admin = "load-admin"
            let helpdesk = "load-helpdesk"
            file.roles += [
                Role(
                    id: "sender",
                    tenantId: tenant,
                    permissions: [Permission.organizationUpdate.rawValue, Permission.sendCustomNotifications.rawValue]
                ),
                Role(id: "helpdesk", tenantId: tenant, permissions: [Permission.sendCustomNotifications.rawValue]),
            ]
            file.principals += [
                Principal(id: admin, tenantId: tenant, roles: ["sender"]),
                Principal(id: helpdesk, tenantId: tenant, roles: ["helpdesk"]),
            ]

            reach[tenant] = Self.reach(groups: groups, devicesOfUser: devicesOfUser, eligible: eligible)
            routes[tenant] = eligible
            tenants.append(
                TenantPlan(
                    id: tenant,
                    principal: admin,
                    groupIds: groups.map(\.id),
                    eligibleDeviceIds: deviceIds.filter { eligible[$0] != nil }
                )
            )
        }
        self.file = file
        self.tenants = tenants
        self.routes = routes
        self.reach = reach
    }

    /// The eligible devices a send to `groups` of `tenant` must reach, each once.
    public func devices(tenant: String, groups: [String]) -> Set<String> {
        groups.reduce(into: Set<String>()) { $0.formUnion(reach[tenant]?[$1] ?? []) }
    }

    /// Which push queue a device's envelope belongs on, if the device is eligible.
    public func route(tenant: String, device: String) -> PushRoute? { routes[tenant]?[device] }

    /// Counts that describe the directory.
    public var summary: (users: Int, devices: Int, eligible: Int, groups: Int) {
        (file.users.count, file.devices.count, tenants.reduce(0) { $0 + $1.eligibleDeviceIds.count }, file.groups.count)
    }

    // MARK: Generation

    /// 1 to 3 devices per user, most people having one or two.
    private static func deviceCount(_ random: inout SplitMix64) -> Int {
        let roll = random.next(below: 100)
        return roll < 45 ? 1 : roll < 85 ? 2 : 3
    }

    /// A device with a realistic mix: mostly phones, some tablets and computers, and a
    /// minority that fails one of the eligibility rules.
    private static func device(id: String, tenant: String, user: String, _ random: inout SplitMix64) -> Device {
        let roll = random.next(below: 100)
        let platform: Platform = roll < 40 ? .ios : roll < 50 ? .ipados : roll < 85 ? .android : roll < 94 ? .windows : .macos
        let token: String =
            switch platform {
            case .ios, .ipados: hex(random.next(), random.next(), random.next(), random.next())
            case .android: "fcm-" + hex(random.next(), random.next(), random.next(), random.next())
            case .macos, .windows: ""
            }
        return Device(
            id: id,
            tenantId: tenant,
            userId: user,
            platform: platform,
            enrolled: random.chance(0.97),
            companyPortalInstalled: random.chance(0.93),
            notificationsAllowed: random.chance(0.9),
            googlePlayServices: platform == .android && random.chance(0.95),
            pushToken: token.isEmpty ? nil : token
        )
    }

    /// The eligibility rules of the product documentation, written out again on purpose.
    static func route(of device: Device) -> PushRoute? {
        guard device.enrolled, device.companyPortalInstalled, device.notificationsAllowed, device.pushToken != nil else { return nil }
        switch device.platform {
        case .ios, .ipados: return .ios
        case .android: return device.googlePlayServices ? .android : nil
        case .macos, .windows: return nil
        }
    }

    /// Breadth-first walk from each group over group members (cycles end), collecting the
    /// eligible devices of user members; device members are ignored, as the rules say.
    private static func reach(groups: [Group], devicesOfUser: [String: [String]], eligible: [String: PushRoute]) -> [String: Set<String>] {
        let byId = Dictionary(uniqueKeysWithValues: groups.map { ($0.id, $0) })
        var out: [String: Set<String>] = [:]
        for group in groups {
            var seen: Set<String> = [group.id]
            var queue = [group.id]
            var devices = Set<String>()
            while let next = queue.popLast() {
                for member in byId[next]?.members ?? [] {
                    switch member.type {
                    case .user: devices.formUnion((devicesOfUser[member.id] ?? []).filter { eligible[$0] != nil })
                    case .group: if seen.insert(member.id).inserted { queue.append(member.id) }
                    case .device: break
                    }
                }
            }
            out[group.id] = devices
        }
        return out
    }
}

private func pad(_ n: Int, _ width: Int) -> String {
    let digits = String(n)
    return String(repeating: "0", count: max(0, width - digits.count)) + digits
}

private func hex(_ words: UInt64...) -> String {
    words.map { word in
        let s = String(word, radix: 16)
        return String(repeating: "0", count: 16 - s.count) + s
    }.joined()
}

/// A small, fast, seedable generator (SplitMix64), so a shape always yields the same directory.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A value in `0..<bound`.
    public mutating func next(below bound: UInt64) -> UInt64 { next() % bound }
    /// A value in `range`.
    public mutating func next(in range: ClosedRange<UInt64>) -> UInt64 {
        range.lowerBound + next(below: range.upperBound - range.lowerBound + 1)
    }
    /// True with probability `p`.
    public mutating func chance(_ p: Double) -> Bool { Double(next() >> 11) / Double(1 << 53) < p }
}
