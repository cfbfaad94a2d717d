public import Auth
public import Directory
public import HeraldCore
import Hummingbird
import Logging
import Foundation

/// A caller after authentication: its tenant, principal and current permissions.
public struct Caller: Sendable, Equatable {
    public var tenantId: String
    public var principalId: String
    public var permissions: Set<Permission>

    /// Throws a 403 naming `permission` when the caller lacks it.
    func require(_ permission: Permission) throws(APIError) {
        guard permissions.contains(permission) else { throw APIError.forbidden(permission.rawValue) }
    }
}

/// Turns a bearer token into a `Caller`, loading permissions from the directory at
/// request time, so a role removed after the token was minted takes effect at once.
public struct Authenticator: Sendable {
    let tokens: TokenService
    let directory: any DirectoryStore

    public init(tokens: TokenService, directory: any DirectoryStore) {
        self.tokens = tokens
        self.directory = directory
    }

    /// The caller of a request with an `Authorization: Bearer …` header.
    func authenticate(_ request: Request) async throws(APIError) -> Caller {
        guard let header = request.headers[.authorization] else {
            throw APIError.unauthorized("a bearer token is required (Authorization: Bearer <token>)")
        }
        let prefix = "bearer "
        guard header.count > prefix.count, header.prefix(prefix.count).lowercased() == prefix else {
            throw APIError.unauthorized("the Authorization header must be \"Bearer <token>\"")
        }
        return try await authenticate(token: String(header.dropFirst(prefix.count)).trimmingCharacters(in: .whitespaces))
    }

    /// The caller a token speaks for.
    public func authenticate(token: String) async throws(APIError) -> Caller {
        try await verify(token: token).caller
    }

    /// The caller a token speaks for, and when the token expires.
    func verify(token: String) async throws(APIError) -> (caller: Caller, expiresAt: Date) {
        let identity: TokenIdentity
        do {
            identity = try await tokens.verify(token)
        } catch {
            throw APIError.unauthorized(error.description)
        }
        return (try await caller(tenantId: identity.tenantId, principalId: identity.principalId), identity.expiresAt)
    }

    /// The caller a principal is now, with the permissions its roles give it today.
    func caller(tenantId: String, principalId: String) async throws(APIError) -> Caller {
        let permissions: Set<Permission>?
        do {
            permissions = try await directory.permissions(tenantId: tenantId, principalId: principalId)
        } catch {
            throw APIError.storeUnavailable()
        }
        guard let permissions else {
            throw APIError.unauthorized("the token's principal does not exist in its tenant")
        }
        return Caller(tenantId: tenantId, principalId: principalId, permissions: permissions)
    }
}
