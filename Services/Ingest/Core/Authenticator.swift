public import Auth
package import Foundation
public import HeraldCore
import Logging
public import Store

/// A caller after authentication: its tenant, principal and current permissions.
public struct Caller: Sendable, Equatable {
    public var tenantId: String
    public var principalId: String
    public var permissions: Set<Permission>
    /// The `jti` of the bearer token it came with, if any (the audit trail records it).
    public var tokenId: String?

    /// Throws a 403 naming `permission` when the caller lacks it.
    package func require(_ permission: Permission) throws(APIError) {
        try require(anyOf: [permission])
    }

    /// Throws a 403 naming `permissions` when the caller holds none of them.
    package func require(anyOf permissions: [Permission]) throws(APIError) {
        guard permissions.contains(where: self.permissions.contains) else {
            throw APIError.forbidden(permissions.map(\.rawValue).joined(separator: " or "))
        }
    }
}

/// Turns a bearer token into a `Caller`, loading permissions from the directory at
/// request time, so a role removed after the token was minted takes effect at once.
public struct Authenticator: Sendable {
    let tokens: any BearerTokenVerifier
    let directory: any DirectoryStore

    public init(tokens: any BearerTokenVerifier, directory: any DirectoryStore) {
        self.tokens = tokens
        self.directory = directory
    }

    /// Whom a token speaks for, without reading the directory: for `BearerAuthenticator`, which
    /// leaves that read to the handler (`IngestRequestContext.requireCaller`).
    package func identity(token: String) async throws(APIError) -> BearerIdentity {
        let identity = try await verified(token)
        return BearerIdentity(
            tenantId: identity.tenantId,
            principalId: identity.principalId,
            tokenId: identity.tokenId,
            authenticator: self
        )
    }

    /// The caller a token speaks for, and when the token expires.
    package func verify(token: String) async throws(APIError) -> (caller: Caller, expiresAt: Date) {
        let identity = try await verified(token)
        return (try await caller(tenantId: identity.tenantId, principalId: identity.principalId), identity.expiresAt)
    }

    private func verified(_ token: String) async throws(APIError) -> TokenIdentity {
        do {
            return try await tokens.verify(token)
        } catch {
            switch error.kind {
            case .invalid: throw APIError.unauthorized(error.description)
            case .keysUnavailable: throw APIError.identityProviderUnavailable(error.description)
            }
        }
    }

    /// The caller a principal is now, with the permissions its roles give it today.
    package func caller(tenantId: String, principalId: String) async throws(APIError) -> Caller {
        let permissions: Set<Permission>?
        do {
            permissions = try await directory.permissions(tenantId: tenantId, principalId: principalId)
        } catch {
            throw APIError.storeUnavailable()
        }
        return try Self.caller(tenantId: tenantId, principalId: principalId, permissions: permissions)
    }

    /// The caller a principal is now, and a device of its tenant, in one read of the directory.
    package func caller(tenantId: String, principalId: String, device deviceId: String) async throws(APIError) -> (Caller, Device?) {
        let found: (permissions: Set<Permission>?, device: Device?)
        do {
            found = try await directory.permissionsAndDevice(tenantId: tenantId, principalId: principalId, deviceId: deviceId)
        } catch {
            throw APIError.storeUnavailable()
        }
        return (try Self.caller(tenantId: tenantId, principalId: principalId, permissions: found.permissions), found.device)
    }

    /// The caller a principal is, given its permissions as read (nil: there is no such principal).
    private static func caller(tenantId: String, principalId: String, permissions: Set<Permission>?) throws(APIError) -> Caller {
        guard let permissions else {
            throw APIError.unauthorized("the token's principal does not exist in its tenant")
        }
        return Caller(tenantId: tenantId, principalId: principalId, permissions: permissions)
    }
}
