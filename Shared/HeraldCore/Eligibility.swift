/// Why a device of a targeted user receives no envelope.
public enum SkipReason: String, Codable, Sendable, CaseIterable, Comparable {
    case unsupportedPlatform
    case notEnrolled
    case companyPortalMissing
    case notificationsDisabled
    case googlePlayServicesMissing
    case noPushToken

    public static func < (lhs: SkipReason, rhs: SkipReason) -> Bool { lhs.rawValue < rhs.rawValue }

    /// A sentence an administrator understands.
    public var explanation: String {
        switch self {
        case .unsupportedPlatform: "custom notifications are supported on iOS, iPadOS and Android devices only"
        case .notEnrolled: "the device is not enrolled in management"
        case .companyPortalMissing: "the Company Portal app is not installed on the device"
        case .notificationsDisabled: "the device does not allow notifications from the Company Portal"
        case .googlePlayServicesMissing: "the Android device has no Google Play Services"
        case .noPushToken: "the device has no push token yet"
        }
    }
}

/// The product's rule for which devices can receive a custom notification.
public enum Eligibility {
    /// nil when the device can receive, else the first rule it breaks.
    public static func skipReason(for device: Device) -> SkipReason? {
        guard device.platform.pushRoute != nil else { return .unsupportedPlatform }
        guard device.enrolled else { return .notEnrolled }
        guard device.companyPortalInstalled else { return .companyPortalMissing }
        guard device.notificationsAllowed else { return .notificationsDisabled }
        if device.platform == .android, !device.googlePlayServices { return .googlePlayServicesMissing }
        guard let token = device.pushToken, !token.isEmpty else { return .noPushToken }
        return nil
    }

    /// The checks ingest makes before accepting a direct device send: the platform
    /// and enrollment. The rest is re-checked at delivery, where the device may have changed.
    public static func acceptanceFailure(for device: Device) -> SkipReason? {
        guard device.platform.pushRoute != nil else { return .unsupportedPlatform }
        guard device.enrolled else { return .notEnrolled }
        return nil
    }
}
