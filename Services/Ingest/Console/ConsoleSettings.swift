public import HeraldRuntime

/// How the admin console keeps sessions.
public struct ConsoleSettings: Sendable, Equatable {
    /// Longest a session lasts; it never outlives the token it was opened with.
    public var sessionSeconds: Int
    /// Whether the session cookie is marked `Secure` (set it when ingest is reached over HTTPS).
    public var secureCookies: Bool

    public init(sessionSeconds: Int = 8 * 3600, secureCookies: Bool = false) {
        self.sessionSeconds = sessionSeconds
        self.secureCookies = secureCookies
    }

    /// Reads `HERALD_CONSOLE_SESSION_TTL` and `HERALD_CONSOLE_SECURE_COOKIES` (default: on when
    /// ingest itself serves HTTPS, `https`).
    public init(environment: EnvironmentReader, https: Bool = false) throws(ConfigurationError) {
        self.init(
            sessionSeconds: try environment.int("HERALD_CONSOLE_SESSION_TTL", default: 8 * 3600, in: 60...7 * 24 * 3600),
            secureCookies: try environment.bool("HERALD_CONSOLE_SECURE_COOKIES", default: https)
        )
    }
}
