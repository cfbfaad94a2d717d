import Auth
import Foundation
import HTTPTypes
import Hummingbird
import JWTKit
import PushProtocol

/// `POST /3/device/{token}`: Apple's HTTP/2 provider API with token authentication, checked the
/// way APNs checks it and answered with its statuses and `reason` strings.
struct APNsEndpoint: Sendable {
    let credentials: SandboxCredentials
    let state: SandboxState
    let keys: JWTKeyCollection

    init(credentials: SandboxCredentials, state: SandboxState) async throws {
        self.credentials = credentials
        self.state = state
        keys = JWTKeyCollection()
        await keys.add(ecdsa: try ES256PublicKey(backing: credentials.apnsKey.publicKey), kid: JWKIdentifier(string: credentials.apnsKeyId))
    }

    func push(_ request: Request, token: String, httpVersion: String) async throws -> Response {
        guard httpVersion == "h2" else { return refuse(505, "HTTP2Required") }
        let headers = request.headers
        // Credentials first, as APNs does.
        guard let authorization = headers[.authorization], authorization.lowercased().hasPrefix("bearer ") else {
            return refuse(403, "MissingProviderToken")
        }
        let jwt = String(authorization.dropFirst("bearer ".count))
        if let problem = await providerTokenProblem(jwt) { return refuse(403, problem) }

        guard let topic = headers[HTTPField.Name("apns-topic")!] else { return refuse(400, "MissingTopic") }
        guard topic == credentials.apnsTopic else { return refuse(400, "TopicDisallowed") }
        let pushType = headers[HTTPField.Name("apns-push-type")!]
        guard let pushType, Self.pushTypes.contains(pushType) else { return refuse(400, "InvalidPushType") }
        if let priority = headers[HTTPField.Name("apns-priority")!], !["1", "5", "10"].contains(priority) {
            return refuse(400, "BadPriority")
        }
        if let expiration = headers[HTTPField.Name("apns-expiration")!], Int(expiration) == nil || expiration.hasPrefix("-") {
            return refuse(400, "BadExpirationDate")
        }
        let apnsId = headers[HTTPField.Name("apns-id")!]
        if let apnsId, UUID(uuidString: apnsId) == nil || apnsId.count != 36 { return refuse(400, "BadMessageId") }
        if let collapse = headers[HTTPField.Name("apns-collapse-id")!], collapse.utf8.count > 64 { return refuse(400, "BadCollapseId") }
        guard Self.isDeviceToken(token) else { return refuse(400, "BadDeviceToken") }

        let body = try await request.body.collect(upTo: 64 * 1024)
        guard body.readableBytes > 0 else { return refuse(400, "PayloadEmpty") }
        guard body.readableBytes <= PushLimits.apnsPayloadBytes else { return refuse(413, "PayloadTooLarge") }
        let text = String(buffer: body)
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any], object["aps"] is [String: Any] else {
            return refuse(400, "BadPayload")
        }

        let (condition, delay) = state.condition(platform: "ios", token: token)
        if delay > .zero { try await Task.sleep(for: delay) }
        switch condition {
        case .unavailable: return refuse(503, "ServiceUnavailable")
        case .throttled(let seconds): return refuse(429, "TooManyRequests", extra: [.retryAfter: String(seconds)])
        case .gone:
            state.refused(platform: "ios", reason: "Unregistered")
            return json(410, ["reason": "Unregistered", "timestamp": Int(Date().timeIntervalSince1970 * 1000)], id: apnsId)
        case .ok: break
        }
        let id = apnsId ?? UUID().uuidString
        let apnsHeaders = Dictionary(
            headers.filter { $0.name.canonicalName.hasPrefix("apns-") }.map { ($0.name.canonicalName, $0.value) },
            uniquingKeysWith: { first, _ in first }
        )
        state.accepted(
            SandboxPush(
                platform: "ios",
                token: token,
                id: apnsId,
                headers: apnsHeaders,
                body: text,
                httpVersion: httpVersion,
                acceptedAt: Date()
            )
        )
        var fields = HTTPFields()
        fields[HTTPField.Name("apns-id")!] = id
        return Response(status: .ok, headers: fields)
    }

    static let pushTypes: Set<String> = [
        "alert", "background", "location", "voip", "complication", "fileprovider", "mdm", "liveactivity", "pushtotalk",
    ]

    /// A device token: an even number of hex digits, 32 to 100 bytes.
    static func isDeviceToken(_ token: String) -> Bool {
        (64...200).contains(token.utf8.count) && token.utf8.count % 2 == 0 && token.utf8.allSatisfy { $0.isHexDigit }
    }

    /// Why APNs would refuse this provider token, or nil: ES256 by this key (`kid`), issued by
    /// this team (`iss`), `iat` within the last hour. The signature of a token is checked once
    /// (a gateway sends the same one for up to an hour); its age on every push.
    private func providerTokenProblem(_ jwt: String) async -> String? {
        let issued: Date
        if let known = state.verifiedProviderToken(jwt) {
            issued = known
        } else {
            guard let header = JWTHeaderFields(token: jwt), header.alg == "ES256" else { return "InvalidProviderToken" }
            guard header.kid == credentials.apnsKeyId else { return "InvalidProviderToken" }
            guard let claims = try? await keys.verify(jwt, as: APNsProviderClaims.self) else { return "InvalidProviderToken" }
            guard claims.iss.value == credentials.apnsTeamId else { return "InvalidProviderToken" }
            issued = claims.iat.value
            state.sawProviderToken(jwt, issuedAt: issued)
        }
        guard issued <= Date().addingTimeInterval(60) else { return "InvalidProviderToken" }
        guard Date().timeIntervalSince(issued) <= 3600, state.honours(issuedAt: issued) else { return "ExpiredProviderToken" }
        return nil
    }

    private func refuse(_ status: Int, _ reason: String, extra: HTTPFields = [:]) -> Response {
        state.refused(platform: "ios", reason: reason)
        var response = json(status, ["reason": reason], id: nil)
        response.headers.append(contentsOf: extra)
        return response
    }

    private func json(_ status: Int, _ object: [String: Any], id: String?) -> Response {
        var fields: HTTPFields = [.contentType: "application/json"]
        if let id { fields[HTTPField.Name("apns-id")!] = id }
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(status: .init(code: status), headers: fields, body: .init(byteBuffer: ByteBuffer(bytes: data)))
    }
}

extension UInt8 {
    var isHexDigit: Bool { (0x30...0x39).contains(self) || (0x61...0x66).contains(self) || (0x41...0x46).contains(self) }
}
