public import HeraldCore
public import Hummingbird
public import HummingbirdAuth

/// What ingest knows about a request as it passes through the middleware: whose bearer token it
/// carries (set by `BearerAuthenticator`), the request id, and how a send ended (`RequestOutcome`).
public struct IngestRequestContext: AuthRequestContext, RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// Whom a valid bearer token speaks for. What the principal may do is read when a handler
    /// asks (`requireCaller`), at request time, so a role removed after the token was minted counts.
    public var identity: BearerIdentity?
    /// `X-Request-Id` of this request, set by `ErrorMiddleware`.
    public package(set) var requestId = ""
    /// How a send in this request ended, for `ErrorMiddleware` to count.
    package let outcome = RequestOutcome()

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// The caller, if it holds `permission`: a 401 without a valid token, a 403 without the permission.
    package func requireCaller(_ permission: Permission) async throws(APIError) -> Caller {
        try await requireCaller(anyOf: [permission])
    }

    /// The caller, if it holds one of `permissions`.
    package func requireCaller(anyOf permissions: [Permission]) async throws(APIError) -> Caller {
        let identity = try requireIdentity()
        var caller = try await identity.authenticator.caller(tenantId: identity.tenantId, principalId: identity.principalId)
        caller.tokenId = identity.tokenId
        try caller.require(anyOf: permissions)
        return caller
    }

    /// The caller, if it holds `permission`, and the device `deviceId` of its tenant as the
    /// directory has it now (nil when there is none), read together: one round trip for a device send.
    package func requireCaller(_ permission: Permission, device deviceId: String) async throws(APIError) -> (Caller, DeviceLookup) {
        let identity = try requireIdentity()
        var (caller, device) = try await identity.authenticator.caller(
            tenantId: identity.tenantId,
            principalId: identity.principalId,
            device: deviceId
        )
        caller.tokenId = identity.tokenId
        try caller.require(anyOf: [permission])
        return (caller, DeviceLookup(id: deviceId, device: device))
    }

    private func requireIdentity() throws(APIError) -> BearerIdentity {
        guard let identity else {
            throw APIError.unauthorized("a bearer token is required (Authorization: Bearer <token>)")
        }
        return identity
    }
}

/// Whom a verified bearer token speaks for, and where to read what that principal may do now.
public struct BearerIdentity: Sendable {
    public var tenantId: String
    public var principalId: String
    /// The token's `jti`, for the audit trail.
    public var tokenId: String?
    let authenticator: Authenticator
}

/// A device of the caller's tenant, read with the caller's permissions (nil: there is none).
public struct DeviceLookup: Sendable {
    public var id: String
    public var device: Device?

    public init(id: String, device: Device?) {
        self.id = id
        self.device = device
    }
}
