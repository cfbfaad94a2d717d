public import HeraldCore

/// The throttle numbers and policy, read the same way by the dispatcher (which enforces them)
/// and ingest (whose console shows what is left of them).
public struct ThrottleSettings: Sendable, Equatable {
    /// Group sends per tenant in any rolling window.
    public var groupSendsPerWindow: Int
    /// Direct sends per device in any rolling window.
    public var deviceSendsPerWindow: Int
    /// The rolling window in seconds (3600; smaller only for tests).
    public var windowSeconds: Int
    public var policy: ThrottlePolicy

    public init(
        groupSendsPerWindow: Int = Limits.defaultGroupSendsPerWindow,
        deviceSendsPerWindow: Int = Limits.defaultDeviceSendsPerWindow,
        windowSeconds: Int = Int(Limits.throttleWindowSeconds),
        policy: ThrottlePolicy = .defer
    ) {
        self.groupSendsPerWindow = groupSendsPerWindow
        self.deviceSendsPerWindow = deviceSendsPerWindow
        self.windowSeconds = windowSeconds
        self.policy = policy
    }

    /// Reads `HERALD_GROUP_SENDS_PER_HOUR`, `HERALD_DEVICE_SENDS_PER_HOUR`, `HERALD_THROTTLE_WINDOW`
    /// and `HERALD_THROTTLE_POLICY`.
    public init(environment: EnvironmentReader) throws(ConfigurationError) {
        self.init(
            groupSendsPerWindow: try environment.int(
                "HERALD_GROUP_SENDS_PER_HOUR",
                default: Limits.defaultGroupSendsPerWindow,
                in: 1...1_000_000
            ),
            deviceSendsPerWindow: try environment.int(
                "HERALD_DEVICE_SENDS_PER_HOUR",
                default: Limits.defaultDeviceSendsPerWindow,
                in: 1...1_000_000
            ),
            windowSeconds: try environment.int("HERALD_THROTTLE_WINDOW", default: Int(Limits.throttleWindowSeconds), in: 1...86_400),
            policy: try environment.choice("HERALD_THROTTLE_POLICY", default: ThrottlePolicy.defer)
        )
    }

    /// The tenant-wide group-send rule.
    public var groupRule: SlidingWindow { SlidingWindow(limit: groupSendsPerWindow, window: Double(windowSeconds)) }
    /// The per-device rule.
    public var deviceRule: SlidingWindow { SlidingWindow(limit: deviceSendsPerWindow, window: Double(windowSeconds)) }
}
