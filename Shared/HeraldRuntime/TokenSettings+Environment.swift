public import Auth
import Foundation

extension TokenSettings {
    /// Reads `HERALD_JWT_SECRET` (required, 32 bytes or more), `HERALD_JWT_ISSUER` and `HERALD_JWT_AUDIENCE`.
    public static func fromEnvironment(_ environment: EnvironmentReader) throws(ConfigurationError) -> TokenSettings {
        let secret = try environment.required("HERALD_JWT_SECRET", hint: "the HS256 key shared by herald-ingest and heraldctl token issue")
        do {
            return try TokenSettings(
                secret: secret,
                issuer: environment.optional("HERALD_JWT_ISSUER"),
                audience: environment.optional("HERALD_JWT_AUDIENCE")
            )
        } catch {
            throw ConfigurationError(key: "HERALD_JWT_SECRET", problem: error.description)
        }
    }
}

/// How herald-ingest verifies bearer tokens: Herald's own HS256 tokens (`HERALD_JWT_SECRET`), or
/// an identity provider's RS256/ES256 tokens against its JWKS (`HERALD_JWKS_PATH` or `_URL`).
public enum TokenVerification: Sendable {
    case sharedSecret(TokenSettings)
    case jwks(JWKSSettings)

    /// With `HERALD_JWKS_PATH` or `HERALD_JWKS_URL` set: JWKS mode, where `HERALD_JWT_ISSUER` and
    /// `HERALD_JWT_AUDIENCE` are required, `HERALD_JWT_TENANT_CLAIM` (`tid`) and
    /// `HERALD_JWT_PRINCIPAL_CLAIM` (`sub`) name the claims, and `HERALD_JWT_SECRET` is not used.
    /// Otherwise HS256 with `HERALD_JWT_SECRET`.
    public static func fromEnvironment(_ environment: EnvironmentReader) throws(ConfigurationError) -> TokenVerification {
        let path = environment.optional("HERALD_JWKS_PATH")
        let url = environment.optional("HERALD_JWKS_URL")
        let source: JWKSSettings.Source
        switch (path, url) {
        case (nil, nil): return .sharedSecret(try TokenSettings.fromEnvironment(environment))
        case (.some, .some):
            throw ConfigurationError(key: "HERALD_JWKS_URL", problem: "and HERALD_JWKS_PATH are both set: give one of them")
        case (.some(let path), nil): source = .file(path)
        case (nil, .some(let url)):
            try checkJWKSURL(url)
            source = .url(url)
        }
        let hint = "the identity provider's value, required when HERALD_JWKS_PATH or HERALD_JWKS_URL is set"
        let claims = ClaimRules(
            issuer: try environment.required("HERALD_JWT_ISSUER", hint: hint),
            audience: try environment.required("HERALD_JWT_AUDIENCE", hint: hint),
            tenantClaim: environment.string("HERALD_JWT_TENANT_CLAIM", default: "tid"),
            principalClaim: environment.string("HERALD_JWT_PRINCIPAL_CLAIM", default: "sub")
        )
        return .jwks(JWKSSettings(source: source, claims: claims))
    }

    /// Keys fetched in the clear could be swapped on the way: only `https://`, or `http://` to
    /// this host's loopback address (a sidecar, a test).
    static func checkJWKSURL(_ text: String) throws(ConfigurationError) {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            let host = components.host, !host.isEmpty
        else {
            throw ConfigurationError(key: "HERALD_JWKS_URL", problem: "is not a URL: \"\(text)\"")
        }
        let loopback = ["127.0.0.1", "localhost", "::1", "[::1]"].contains(host.lowercased())
        guard scheme == "https" || (scheme == "http" && loopback) else {
            throw ConfigurationError(
                key: "HERALD_JWKS_URL",
                problem: "must be an https:// URL (http:// only to 127.0.0.1, ::1 or localhost), got \"\(text)\""
            )
        }
    }

    /// What the start line says: the mode and, for a JWKS, where it comes from.
    public var description: String {
        switch self {
        case .sharedSecret: "HS256 (HERALD_JWT_SECRET)"
        case .jwks(let settings): "RS256/ES256 from the JWKS \(settings.source)"
        }
    }
}
