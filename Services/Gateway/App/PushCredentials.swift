public import AsyncHTTPClient
public import Foundation
import JWTKit
import NIOCore
import NIOHTTP1
import PushProtocol

/// A credential a push service refused, or could not be had.
public enum PushCredentialError: Error, CustomStringConvertible, Sendable {
    /// The key or account itself is refused (a revoked key, a wrong issuer): renewing will not help.
    case refused(String)
    /// The token endpoint did not answer usefully; it may later.
    case unavailable(String)

    public var description: String {
        switch self {
        case .refused(let reason): "credentials refused: \(reason)"
        case .unavailable(let reason): "credentials unavailable: \(reason)"
        }
    }
}

/// The APNs provider token every connection of this process shares: signed once, reused, and
/// signed again after `refreshAfter` (APNs wants 20 to 60 minutes; more often answers 429
/// `TooManyProviderTokenUpdates`), or at once when APNs refused the current one.
public actor APNsProviderTokens {
    private let keys = JWTKeyCollection()
    private let keyId: JWKIdentifier
    private let teamId: String
    private let refreshAfter: TimeInterval
    private var current: (token: String, issuedAt: Date)?
    /// The signing under way: concurrent callers wait for it rather than sign tokens of their own.
    private var pending: Task<(String, Date), any Error>?
    /// Tokens signed since start (the gateway's metric of refreshes).
    public private(set) var signed = 0

    public init(keyPEM: String, keyId: String, teamId: String, refreshAfter: TimeInterval = 40 * 60) async throws {
        await keys.add(ecdsa: try ES256PrivateKey(pem: keyPEM), kid: JWKIdentifier(string: keyId))
        self.keyId = JWKIdentifier(string: keyId)
        self.teamId = teamId
        self.refreshAfter = refreshAfter
    }

    /// The token to send now.
    public func token(now: Date = Date()) async throws -> String {
        if let current, now.timeIntervalSince(current.issuedAt) < refreshAfter { return current.token }
        if let pending { return try await pending.value.0 }
        // APNs reads whole seconds; a token dated in the future is refused.
        let issuedAt = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
        let (keys, teamId, keyId) = (keys, teamId, keyId)
        let task = Task { (try await keys.sign(APNsProviderClaims(teamId: teamId, issuedAt: issuedAt), kid: keyId), issuedAt) }
        pending = task
        defer { pending = nil }
        let (token, signedAt) = try await task.value
        current = (token, signedAt)
        signed += 1
        return token
    }

    /// APNs refused `token`: the next call signs a new one, unless another caller already did.
    public func refused(_ token: String) {
        if current?.token == token { current = nil }
    }
}

/// A Google service account, as its JSON file gives it.
public struct ServiceAccount: Decodable, Sendable {
    public var projectId: String
    public var clientEmail: String
    public var privateKey: String
    public var privateKeyId: String?
    public var tokenURI: String

    enum CodingKeys: String, CodingKey {
        case projectId = "project_id"
        case clientEmail = "client_email"
        case privateKey = "private_key"
        case privateKeyId = "private_key_id"
        case tokenURI = "token_uri"
    }

    public static func read(path: String) throws -> ServiceAccount {
        try JSONDecoder().decode(ServiceAccount.self, from: Data(contentsOf: URL(fileURLWithPath: path)))
    }
}

/// The OAuth2 access token FCM wants, from the service account by a JWT bearer grant: fetched
/// once for every caller (concurrent callers wait for the same request), kept until shortly
/// before it expires, and fetched again at once when FCM refused it.
public actor FCMAccessTokens {
    private let account: ServiceAccount
    private let keys = JWTKeyCollection()
    private let client: HTTPClient
    private var current: (token: String, renewAt: Date)?
    private var pending: Task<(String, Date), any Error>?
    /// Tokens fetched since start.
    public private(set) var fetched = 0

    public init(account: ServiceAccount, client: HTTPClient) async throws {
        self.account = account
        self.client = client
        let kid = account.privateKeyId.map { JWKIdentifier(string: $0) }
        await keys.add(rsa: try Insecure.RSA.PrivateKey(pem: account.privateKey), digestAlgorithm: .sha256, kid: kid)
    }

    /// The token to send now.
    public func token(now: Date = Date()) async throws -> String {
        if let current, now < current.renewAt { return current.token }
        if let pending { return try await pending.value.0 }
        let task = Task { try await self.fetch() }
        pending = task
        defer { pending = nil }
        let (token, renewAt) = try await task.value
        current = (token, renewAt)
        fetched += 1
        return token
    }

    /// FCM refused `token`: the next call fetches a new one, unless another caller already did.
    public func refused(_ token: String) {
        if current?.token == token { current = nil }
    }

    private func fetch() async throws -> (String, Date) {
        let now = Date()
        let assertion = try await keys.sign(
            OAuthGrantClaims(clientEmail: account.clientEmail, scope: PushLimits.fcmScope, tokenURI: account.tokenURI, issuedAt: now),
            kid: account.privateKeyId.map { JWKIdentifier(string: $0) }
        )
        var request = HTTPClientRequest(url: account.tokenURI)
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/x-www-form-urlencoded")
        request.body = .bytes(ByteBuffer(string: "grant_type=urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Ajwt-bearer&assertion=\(assertion)"))
        let response: HTTPClientResponse
        let body: ByteBuffer
        do {
            response = try await client.execute(request, timeout: .seconds(10))
            body = try await response.body.collect(upTo: 64 * 1024)
        } catch {
            throw PushCredentialError.unavailable("token endpoint: \(error)")
        }
        let object = (try? JSONSerialization.jsonObject(with: Data(body.readableBytesView)) as? [String: Any]) ?? [:]
        guard response.status == .ok, let token = object["access_token"] as? String, let lifetime = object["expires_in"] as? Int else {
            let reason = (object["error"] as? String) ?? "HTTP \(response.status.code)"
            if (400..<500).contains(Int(response.status.code)) && response.status != .tooManyRequests {
                throw PushCredentialError.refused("token endpoint: \(reason)")
            }
            throw PushCredentialError.unavailable("token endpoint: \(reason)")
        }
        // Renew five minutes before it expires, or halfway through a shorter life.
        let margin = min(300, Double(lifetime) / 2)
        return (token, now.addingTimeInterval(Double(lifetime) - margin))
    }
}
