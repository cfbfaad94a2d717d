public import Auth

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
