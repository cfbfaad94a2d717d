package import HeraldCore
public import Hummingbird
public import HummingbirdAuth

/// What ingest knows about a request as it passes through the middleware: who is calling
/// (set by `BearerAuthenticator`), the request id, and how a send ended (`RequestOutcome`).
public struct IngestRequestContext: AuthRequestContext, RequestContext {
    public var coreContext: CoreRequestContextStorage
    /// The authenticated caller, once `BearerAuthenticator` has read a valid token.
    public var identity: Caller?
    /// `X-Request-Id` of this request, set by `ErrorMiddleware`.
    public package(set) var requestId = ""
    /// How a send in this request ended, for `ErrorMiddleware` to count.
    package let outcome = RequestOutcome()

    public init(source: ApplicationRequestContextSource) {
        coreContext = .init(source: source)
    }

    /// The caller, if it holds `permission`: a 401 without a valid token, a 403 without the permission.
    package func requireCaller(_ permission: Permission) throws(APIError) -> Caller {
        try requireCaller(anyOf: [permission])
    }

    /// The caller, if it holds one of `permissions`.
    package func requireCaller(anyOf permissions: [Permission]) throws(APIError) -> Caller {
        guard let identity else {
            throw APIError.unauthorized("a bearer token is required (Authorization: Bearer <token>)")
        }
        guard permissions.contains(where: identity.permissions.contains) else {
            throw APIError.forbidden(permissions.map(\.rawValue).joined(separator: " or "))
        }
        return identity
    }
}
