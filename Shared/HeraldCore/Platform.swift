/// A managed device's operating system, as named in the directory import file.
public enum Platform: String, Codable, Sendable, CaseIterable {
    case ios, ipados, android, macos, windows

    /// The push queue an envelope for this platform goes to, or nil when custom
    /// notifications are not supported on it (macOS, Windows).
    public var pushRoute: PushRoute? {
        switch self {
        case .ios, .ipados: .ios
        case .android: .android
        case .macos, .windows: nil
        }
    }

    /// The name administrators read.
    public var displayName: String {
        switch self {
        case .ios: "iOS"
        case .ipados: "iPadOS"
        case .android: "Android"
        case .macos: "macOS"
        case .windows: "Windows"
        }
    }
}

/// The two push gateways Herald feeds; also the routing key on `herald.push`.
public enum PushRoute: String, Codable, Sendable, CaseIterable {
    case ios, android
}
