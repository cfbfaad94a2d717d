public import Foundation
public import HeraldRuntime

/// Where herald-gateway pushes and with which credentials: APNs, FCM or both. A platform
/// without credentials is not pushed to (its queue is left alone); none at all is a
/// configuration error naming the keys.
public struct PushSettings: Sendable {
    public struct APNs: Sendable {
        /// `HERALD_APNS_URL`; the gateway posts to `/3/device/<token>` under it.
        public var baseURL: String
        /// The `.p8` signing key (ES256) and its key id and team id.
        public var keyPath: String
        public var keyId: String
        public var teamId: String
        /// The app's bundle id, sent as `apns-topic`.
        public var topic: String

        public init(baseURL: String = "https://api.push.apple.com", keyPath: String, keyId: String, teamId: String, topic: String) {
            self.baseURL = baseURL
            self.keyPath = keyPath
            self.keyId = keyId
            self.teamId = teamId
            self.topic = topic
        }
    }

    public struct FCM: Sendable {
        /// `HERALD_FCM_URL`; the gateway posts to `/v1/projects/<project_id>/messages:send` under it.
        public var baseURL: String
        /// A Google service-account JSON (`project_id`, `client_email`, `private_key`, `token_uri`).
        public var credentialsPath: String

        public init(baseURL: String = "https://fcm.googleapis.com", credentialsPath: String) {
            self.baseURL = baseURL
            self.credentialsPath = credentialsPath
        }
    }

    public var apns: APNs?
    public var fcm: FCM?
    /// A CA bundle trusted besides the system's, for APNs, FCM and the token endpoint.
    public var caFile: String?

    public init(apns: APNs?, fcm: FCM?, caFile: String? = nil) {
        self.apns = apns
        self.fcm = fcm
        self.caFile = caFile
    }

    static let apnsKeys = ["HERALD_APNS_KEY_PATH", "HERALD_APNS_KEY_ID", "HERALD_APNS_TEAM_ID", "HERALD_APNS_TOPIC"]

    /// Reads `HERALD_APNS_*`, `HERALD_FCM_*` and `HERALD_PUSH_CA_FILE`. APNs needs all four of its
    /// keys or none; a file named must exist.
    public init(environment: EnvironmentReader) throws(ConfigurationError) {
        let given = Self.apnsKeys.filter { environment.optional($0) != nil }
        if !given.isEmpty, given.count < Self.apnsKeys.count {
            let missing = Self.apnsKeys.filter { !given.contains($0) }
            throw ConfigurationError(
                key: missing[0],
                problem: "is required with \(given.joined(separator: ", ")): APNs needs \(missing.joined(separator: ", ")) too"
            )
        }
        var apns: APNs?
        if given.count == Self.apnsKeys.count {
            apns = APNs(
                baseURL: try Self.url(environment, "HERALD_APNS_URL", default: "https://api.push.apple.com"),
                // Set: checked above.
                keyPath: try environment.readableFile("HERALD_APNS_KEY_PATH") ?? "",
                keyId: environment.string("HERALD_APNS_KEY_ID", default: ""),
                teamId: environment.string("HERALD_APNS_TEAM_ID", default: ""),
                topic: environment.string("HERALD_APNS_TOPIC", default: "")
            )
        }
        var fcm: FCM?
        if let credentials = try environment.readableFile("HERALD_FCM_CREDENTIALS_PATH") {
            fcm = FCM(
                baseURL: try Self.url(environment, "HERALD_FCM_URL", default: "https://fcm.googleapis.com"),
                credentialsPath: credentials
            )
        }
        guard apns != nil || fcm != nil else {
            throw ConfigurationError(
                key: "HERALD_APNS_KEY_PATH",
                problem: "is not set, nor HERALD_FCM_CREDENTIALS_PATH: herald-gateway needs APNs credentials "
                    + "(\(Self.apnsKeys.joined(separator: ", "))), an FCM service account, or both"
            )
        }
        self.init(apns: apns, fcm: fcm, caFile: try environment.readableFile("HERALD_PUSH_CA_FILE"))
    }

    private static func url(_ environment: EnvironmentReader, _ key: String, default fallback: String) throws(ConfigurationError) -> String
    {
        let text = environment.string(key, default: fallback)
        guard let url = URL(string: text), url.scheme == "https", url.host != nil else {
            throw ConfigurationError(key: key, problem: "must be an https:// URL, got \"\(text)\"")
        }
        return text.hasSuffix("/") ? String(text.dropLast()) : text
    }
}
