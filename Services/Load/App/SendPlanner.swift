public import HeraldCore

/// What a load run sends: the share of group sends and how many groups each targets.
public struct SendMix: Sendable {
    /// Fraction of sends that go to groups (the rest go to one device).
    public var groupShare: Double
    /// How many groups one group send targets.
    public var groupsPerSend: ClosedRange<Int>
    /// Whether to stay within each tenant's and device's throttle budget for one window
    /// (so throttles do not dominate the run), or to go on past it on purpose.
    public var respectThrottles: Bool
    public var groupSendsPerTenant: Int
    public var sendsPerDevice: Int

    public init(
        groupShare: Double = 0.1,
        groupsPerSend: ClosedRange<Int> = 1...3,
        respectThrottles: Bool = true,
        groupSendsPerTenant: Int = Limits.defaultGroupSendsPerWindow,
        sendsPerDevice: Int = Limits.defaultDeviceSendsPerWindow
    ) {
        self.groupShare = groupShare
        self.groupsPerSend = groupsPerSend
        self.respectThrottles = respectThrottles
        self.groupSendsPerTenant = groupSendsPerTenant
        self.sendsPerDevice = sendsPerDevice
    }
}

/// One send of a load run: the HTTP request to make and the devices it must reach.
public struct PlannedSend: Sendable {
    public enum Kind: String, Sendable, Codable { case group, device }
    public var index: Int
    public var kind: Kind
    public var tenant: String
    public var principal: String
    public var path: String
    public var body: [UInt8]
    /// Every eligible device the send must reach, with the queue its envelope belongs on.
    public var expected: [(device: String, route: PushRoute)]
}

/// Picks the sends of a run: tenants for group sends and devices for direct sends in turn,
/// spread so that no tenant or device goes over its throttle budget unless asked to.
public struct SendPlanner: Sendable {
    private let directory: SyntheticDirectory
    private let mix: SendMix
    private var random: SplitMix64
    private let devices: [(tenant: Int, device: String)]
    private var groupSends = 0
    private var deviceSends = 0
    private var index = 0

    public init(directory: SyntheticDirectory, mix: SendMix, seed: UInt64) {
        self.directory = directory
        self.mix = mix
        random = SplitMix64(seed: seed)
        // Interleave tenants, so consecutive device sends land on different tenants.
        var devices: [(tenant: Int, device: String)] = []
        let longest = directory.tenants.map(\.eligibleDeviceIds.count).max() ?? 0
        for d in 0..<longest {
            for (t, tenant) in directory.tenants.enumerated() where d < tenant.eligibleDeviceIds.count {
                devices.append((t, tenant.eligibleDeviceIds[d]))
            }
        }
        self.devices = devices
    }

    /// How many sends of each kind fit in one throttle window.
    public var capacity: (groupSends: Int, deviceSends: Int) {
        (directory.tenants.count * mix.groupSendsPerTenant, devices.count * mix.sendsPerDevice)
    }

    /// The next send, or nil when the budget of the kind it drew is used up.
    public mutating func next() -> PlannedSend? {
        defer { index += 1 }
        let wantsGroup = random.chance(mix.groupShare)
        if wantsGroup || devices.isEmpty { return nextGroupSend() }
        return nextDeviceSend()
    }

    private mutating func nextGroupSend() -> PlannedSend? {
        let tenants = directory.tenants
        guard !tenants.isEmpty else { return nil }
        if mix.respectThrottles, groupSends >= capacity.groupSends { return nil }
        let tenant = tenants[groupSends % tenants.count]
        groupSends += 1
        guard !tenant.groupIds.isEmpty else { return nil }
        let wanted = min(
            tenant.groupIds.count,
            Int(random.next(in: UInt64(mix.groupsPerSend.lowerBound)...UInt64(mix.groupsPerSend.upperBound)))
        )
        var groups: [String] = []
        while groups.count < wanted {
            let pick = tenant.groupIds[Int(random.next(below: UInt64(tenant.groupIds.count)))]
            if !groups.contains(pick) { groups.append(pick) }
        }
        let (title, body) = text()
        let json =
            "{\"title\":\(JSONText.quoted(title)),\"body\":\(JSONText.quoted(body)),\"groupIds\":[\(groups.map(JSONText.quoted).joined(separator: ","))]}"
        let expected = directory.devices(tenant: tenant.id, groups: groups).sorted().compactMap { device in
            directory.route(tenant: tenant.id, device: device).map { (device, $0) }
        }
        return PlannedSend(
            index: index,
            kind: .group,
            tenant: tenant.id,
            principal: tenant.principal,
            path: "/v1/notifications",
            body: Array(json.utf8),
            expected: expected
        )
    }

    private mutating func nextDeviceSend() -> PlannedSend? {
        if mix.respectThrottles, deviceSends >= capacity.deviceSends { return nil }
        let (t, device) = devices[deviceSends % devices.count]
        deviceSends += 1
        let tenant = directory.tenants[t]
        let (title, body) = text()
        let json = "{\"title\":\(JSONText.quoted(title)),\"body\":\(JSONText.quoted(body))}"
        let route = directory.route(tenant: tenant.id, device: device) ?? .ios
        return PlannedSend(
            index: index,
            kind: .device,
            tenant: tenant.id,
            principal: tenant.principal,
            path: "/v1/devices/\(device)/notifications",
            body: Array(json.utf8),
            expected: [(device, route)]
        )
    }

    /// A title and body of realistic, varied length, some with accents and emoji.
    private mutating func text() -> (String, String) {
        let titles = [
            "Maintenance tonight", "Badge renewal", "Wi-Fi change at HQ", "Récupération du courrier 📬", "Update your app",
            "Storing: e-mail",
        ]
        let sentences = [
            "The office network will be down between 22:00 and 23:00.",
            "Please install the latest Company Portal update before Friday.",
            "Votre badge expire bientôt ; passez à l'accueil. ",
            "Din enhet behöver startas om för att slutföra uppdateringen.",
            "Vă rugăm să vă actualizați parola până luni. 🔐",
            "Contact the service desk if anything looks wrong.",
        ]
        let title = titles[Int(random.next(below: UInt64(titles.count)))] + " #\(index)"
        var body = ""
        for _ in 0..<random.next(in: 1...6) { body += sentences[Int(random.next(below: UInt64(sentences.count)))] + " " }
        return (title, String(body.dropLast()))
    }
}
