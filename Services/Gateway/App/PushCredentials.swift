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

/// A credential every push of this process shares: made once, reused until its renewal time,
/// and made again at once when the service refused it. Callers that ask while it is being made
/// wait for that one rather than make their own (two APNs provider tokens signed at once were
/// seen before this was shared).
public actor SharedCredential {
    public typealias Made = (value: String, renewAt: Date)
    private let make: @Sendable (Date) async throws -> Made
    private var current: Made?
    private var pending: Task<Made, any Error>?
    /// Credentials made since start (the gateway's metric of renewals).
    public private(set) var made = 0

    public init(make: @escaping @Sendable (Date) async throws -> Made) { self.make = make }

    /// The credential to send now.
    public func value(now: Date = Date()) async throws -> String {
        if let current, now < current.renewAt { return current.value }
        if let pending { return try await pending.value.value }
        let make = make
        let task = Task { try await make(now) }
        pending = task
        defer { pending = nil }
        let fresh = try await task.value
        current = fresh
        made += 1
        return fresh.value
    }

    /// The service refused `value`: the next call makes a new one, unless another caller already did.
    public func refused(_ value: String) {
        if current?.value == value { current = nil }
    }
}

extension SharedCredential {
    /// The APNs provider token (ES256, `kid` = the key id, `iss` = the team id), signed again
    /// after `refreshAfter` (APNs wants 20 to 60 minutes; more often answers 429
    /// `TooManyProviderTokenUpdates`).
    public static func apnsProviderToken(
        keyPEM: String,
        keyId: String,
        teamId: String,
        refreshAfter: TimeInterval = 40 * 60
    ) async throws -> SharedCredential {
        let keys = JWTKeyCollection()
        let kid = JWKIdentifier(string: keyId)
        await keys.add(ecdsa: try ES256PrivateKey(pem: keyPEM), kid: kid)
        return SharedCredential { now in
            // APNs reads whole seconds; a token dated in the future is refused.
            let issuedAt = Date(timeIntervalSince1970: now.timeIntervalSince1970.rounded(.down))
            let token = try await keys.sign(APNsProviderClaims(teamId: teamId, issuedAt: issuedAt), kid: kid)
            return (token, issuedAt.addingTimeInterval(refreshAfter))
        }
    }

    /// The OAuth2 access token FCM wants, from the service account by a JWT bearer grant, renewed
    /// five minutes before it expires (halfway through a shorter life).
    public static func fcmAccessToken(account: ServiceAccount, client: HTTPClient) async throws -> SharedCredential {
        let keys = JWTKeyCollection()
        let kid = account.privateKeyId.map { JWKIdentifier(string: $0) }
        await keys.add(rsa: try Insecure.RSA.PrivateKey(pem: account.privateKey), digestAlgorithm: .sha256, kid: kid)
        return SharedCredential { now in try await fetchAccessToken(account: account, keys: keys, kid: kid, client: client, now: now) }
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

extension SharedCredential {
    private static func fetchAccessToken(
        account: ServiceAccount,
        keys: JWTKeyCollection,
        kid: JWKIdentifier?,
        client: HTTPClient,
        now: Date
    ) async throws -> Made {
        let assertion = try await keys.sign(
            OAuthGrantClaims(clientEmail: account.clientEmail, scope: PushLimits.fcmScope, tokenURI: account.tokenURI, issuedAt: now),
            kid: kid
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
        let margin = min(300, Double(lifetime) / 2)
        return (token, now.addingTimeInterval(Double(lifetime) - margin))
    }
}
