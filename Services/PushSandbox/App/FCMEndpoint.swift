import Auth
import Foundation
import HTTPTypes
import Hummingbird
import JWTKit
import PushProtocol

/// Google's side of FCM HTTP v1: the OAuth2 token endpoint (`POST /token`, a JWT bearer grant
/// signed with the service account's key) and `POST /v1/projects/{id}/messages:send`, checked
/// and answered the way Google does, errors in Google's `{"error": {...}}` shape.
struct FCMEndpoint: Sendable {
    let credentials: SandboxCredentials
    let state: SandboxState
    let keys: JWTKeyCollection
    let accessTokenLifetime: TimeInterval
    let tokenURI: @Sendable () -> String

    init(
        credentials: SandboxCredentials,
        state: SandboxState,
        accessTokenLifetime: TimeInterval,
        tokenURI: @escaping @Sendable () -> String
    ) async throws {
        self.credentials = credentials
        self.state = state
        self.accessTokenLifetime = accessTokenLifetime
        self.tokenURI = tokenURI
        keys = JWTKeyCollection()
        await keys.add(rsa: try Insecure.RSA.PublicKey(backing: credentials.fcmKey.publicKey), digestAlgorithm: .sha256)
    }

    // MARK: POST /token

    func grant(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 64 * 1024)
        let form = Self.form(String(buffer: body))
        guard form["grant_type"] == "urn:ietf:params:oauth:grant-type:jwt-bearer", let assertion = form["assertion"] else {
            return oauthError("unsupported_grant_type", "Invalid grant_type: \(form["grant_type"] ?? "")")
        }
        guard let header = JWTHeaderFields(token: assertion), header.alg == "RS256" else {
            return oauthError("invalid_grant", "Invalid JWT Signature.")
        }
        if let kid = header.kid, kid != credentials.fcmKeyId { return oauthError("invalid_grant", "Invalid JWT Signature.") }
        guard !state.keysRevoked, let claims = try? await keys.verify(assertion, as: OAuthGrantClaims.self) else {
            return oauthError("invalid_grant", "Invalid JWT Signature.")
        }
        guard claims.iss.value == credentials.fcmClientEmail else { return oauthError("invalid_grant", "Invalid issuer.") }
        guard claims.aud.value.contains(tokenURI()) else { return oauthError("invalid_grant", "Invalid JWT audience.") }
        guard claims.scope.split(separator: " ").contains(Substring(PushLimits.fcmScope)) else {
            return oauthError("invalid_scope", "Invalid OAuth scope.")
        }
        let now = Date()
        guard claims.exp.value > now, claims.iat.value <= now.addingTimeInterval(60),
            claims.exp.value.timeIntervalSince(claims.iat.value) <= 3600
        else {
            return oauthError("invalid_grant", "Invalid JWT: Token must be a short-lived token (60 minutes) and in a reasonable timeframe.")
        }
        let token = state.issueAccessToken(lifetime: accessTokenLifetime)
        return json(200, ["access_token": token, "expires_in": Int(accessTokenLifetime), "token_type": "Bearer"])
    }

    // MARK: POST /v1/projects/{id}/messages:send

    func send(_ request: Request, project: String, httpVersion: String) async throws -> Response {
        guard let authorization = request.headers[.authorization], authorization.hasPrefix("Bearer "),
            state.acceptsAccessToken(String(authorization.dropFirst("Bearer ".count)))
        else {
            return refuse(
                401,
                "UNAUTHENTICATED",
                "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential.",
                errorCode: nil
            )
        }
        guard project == credentials.fcmProjectId else {
            return refuse(404, "NOT_FOUND", "Requested entity was not found.", errorCode: nil)
        }
        let body = try await request.body.collect(upTo: 64 * 1024)
        let text = String(buffer: body)
        guard let object = try? JSONSerialization.jsonObject(with: Data(text.utf8)) as? [String: Any],
            let message = object["message"] as? [String: Any]
        else { return refuse(400, "INVALID_ARGUMENT", "Invalid JSON payload received.", errorCode: "INVALID_ARGUMENT") }
        let targets = ["token", "topic", "condition"].filter { message[$0] != nil }
        guard targets == ["token"], let token = message["token"] as? String else {
            return refuse(
                400,
                "INVALID_ARGUMENT",
                "Exactly one of token, topic or condition must be given; the gateway sends to tokens.",
                errorCode: "INVALID_ARGUMENT"
            )
        }
        guard Self.isRegistrationToken(token) else {
            return refuse(
                400,
                "INVALID_ARGUMENT",
                "The registration token is not a valid FCM registration token",
                errorCode: "INVALID_ARGUMENT",
                field: "message.token"
            )
        }
        let messageBytes = (try? JSONSerialization.data(withJSONObject: message).count) ?? Int.max
        guard messageBytes <= PushLimits.fcmMessageBytes else {
            return refuse(
                400,
                "INVALID_ARGUMENT",
                "Message is too big (\(messageBytes) bytes; the limit is 4096).",
                errorCode: "INVALID_ARGUMENT"
            )
        }
        if let android = message["android"] as? [String: Any], let ttl = android["ttl"] {
            guard let ttl = ttl as? String, ttl.hasSuffix("s"), let seconds = Double(ttl.dropLast()),
                (0...PushLimits.fcmMaxTTLSeconds).contains(seconds)
            else {
                return refuse(400, "INVALID_ARGUMENT", "Invalid value at 'message.android.ttl'.", errorCode: "INVALID_ARGUMENT")
            }
        }

        let (condition, delay) = state.condition(platform: "android", token: token)
        if delay > .zero { try await Task.sleep(for: delay) }
        switch condition {
        case .unavailable: return refuse(503, "UNAVAILABLE", "The service is currently unavailable.", errorCode: "UNAVAILABLE")
        case .throttled(let seconds):
            var response = refuse(429, "RESOURCE_EXHAUSTED", "Quota exceeded for sending messages.", errorCode: "QUOTA_EXCEEDED")
            response.headers[.retryAfter] = String(seconds)
            return response
        case .gone: return refuse(404, "NOT_FOUND", "Requested entity was not found.", errorCode: "UNREGISTERED")
        case .ok: break
        }
        let envelopeId = (message["data"] as? [String: Any])?["envelopeId"] as? String
        state.accepted(
            SandboxPush(
                platform: "android",
                token: token,
                id: envelopeId,
                headers: [:],
                body: text,
                httpVersion: httpVersion,
                acceptedAt: Date()
            )
        )
        return json(200, ["name": "projects/\(project)/messages/\(UInt64.random(in: 1...UInt64.max))"])
    }

    /// A registration token, by the stand-in's own rule (Google publishes none): 32 to 4096
    /// characters of letters, digits, `-`, `_` and `:`.
    static func isRegistrationToken(_ token: String) -> Bool {
        (32...4096).contains(token.utf8.count)
            && token.utf8.allSatisfy {
                $0.isASCIIAlphanumeric || $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: "_") || $0 == UInt8(ascii: ":")
            }
    }

    static func form(_ text: String) -> [String: String] {
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            guard parts.count == 2 else { continue }
            let decode = { (s: Substring) in s.replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? String(s) }
            fields[decode(parts[0])] = decode(parts[1])
        }
        return fields
    }

    private func oauthError(_ error: String, _ description: String) -> Response {
        state.refused(platform: "android", reason: "token:\(error)")
        return json(400, ["error": error, "error_description": description])
    }

    /// Google's error shape; `field` adds a `google.rpc.BadRequest` naming the field at fault.
    private func refuse(_ code: Int, _ status: String, _ message: String, errorCode: String?, field: String? = nil) -> Response {
        state.refused(platform: "android", reason: errorCode ?? status)
        var error: [String: Any] = ["code": code, "message": message, "status": status]
        var details: [[String: Any]] = []
        if let errorCode { details.append(["@type": "type.googleapis.com/google.firebase.fcm.v1.FcmError", "errorCode": errorCode]) }
        if let field {
            details.append([
                "@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": [["field": field, "description": message]],
            ])
        }
        if !details.isEmpty { error["details"] = details }
        return json(code, ["error": error])
    }

    private func json(_ status: Int, _ object: [String: Any]) -> Response {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])) ?? Data()
        return Response(
            status: .init(code: status),
            headers: [.contentType: "application/json; charset=UTF-8"],
            body: .init(byteBuffer: ByteBuffer(bytes: data))
        )
    }
}

extension UInt8 {
    var isASCIIAlphanumeric: Bool { (0x30...0x39).contains(self) || (0x41...0x5A).contains(self) || (0x61...0x7A).contains(self) }
}
