public import Foundation

/// A signed-in console session. The store knows it only by a hash of the cookie's secret,
/// so reading the database does not hand anyone a usable session.
public struct ConsoleSession: Sendable, Equatable {
    public var tenantId: String
    public var principalId: String
    /// The token every form of this session must carry back.
    public var csrf: String
    public var expiresAt: Date

    public init(tenantId: String, principalId: String, csrf: String, expiresAt: Date) {
        self.tenantId = tenantId
        self.principalId = principalId
        self.csrf = csrf
        self.expiresAt = expiresAt
    }
}

/// Console sessions, shared by every ingest process, keyed by a hash of the cookie's secret.
public protocol ConsoleSessionStore: Sendable {
    /// Stores a new session under `idHash`, and drops sessions that have expired.
    func create(_ session: ConsoleSession, idHash: String, now: Date) async throws
    /// The session with `idHash`, unless it has expired.
    func session(idHash: String, now: Date) async throws -> ConsoleSession?
    /// Ends a session.
    func delete(idHash: String) async throws
}

extension ConsoleSessionStore {
    public func create(_ session: ConsoleSession, idHash: String) async throws {
        try await create(session, idHash: idHash, now: Date())
    }

    public func session(idHash: String) async throws -> ConsoleSession? {
        try await session(idHash: idHash, now: Date())
    }
}
