public import AsyncHTTPClient
public import Foundation
public import HeraldCore
import NIOCore
import NIOHTTP1
import NIOSSL

/// What the gateway needs of an envelope (docs/contracts.md's shape), read from its JSON.
public struct PushEnvelope: Sendable {
    public var id: String
    public var notificationId: String
    public var tenantId: String
    public var deviceId: String
    public var route: PushRoute
    public var pushToken: String
    public var expiresAt: Date
    /// The `apns` block's headers and its payload as JSON (iOS).
    var apnsHeaders: [String: String] = [:]
    var apnsPayload = Data()
    /// The `fcm.message` object as JSON (Android).
    var fcmMessage = Data()

    public struct Malformed: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads an envelope in one pass over its text (JSONMembers): the APNs payload is sent on
    /// as it came, the FCM message with `data.envelopeId`, `data.notificationId` and
    /// `android.notification.tag` put in.
    public init(json: [UInt8]) throws {
        let object: JSONMembers
        do {
            object = try JSONMembers(json)
        } catch {
            throw Malformed(description: "not a JSON object")
        }
        func string(_ key: String) throws -> String {
            guard let value = object.string(key), !value.isEmpty else { throw Malformed(description: "\(key) missing") }
            return value
        }
        id = try string("envelopeId")
        notificationId = try string("notificationId")
        tenantId = try string("tenantId")
        deviceId = try string("deviceId")
        guard let route = PushRoute(rawValue: try string("platform")) else { throw Malformed(description: "platform unknown") }
        self.route = route
        pushToken = try string("pushToken")
        guard let expiresAt = Timestamp.date(try string("expiresAt")) else { throw Malformed(description: "expiresAt unreadable") }
        self.expiresAt = expiresAt
        do {
            switch route {
            case .ios:
                guard let apns = try object.object("apns"), let payload = apns["payload"], json[payload.lowerBound] == UInt8(ascii: "{")
                else { throw Malformed(description: "apns block missing") }
                if let headers = try apns.object("headers") {
                    for member in headers.members { apnsHeaders[member.key] = headers.string(member.key) }
                }
                apnsPayload = Data(json[payload])
            case .android:
                guard let message = try object.object("fcm")?.object("message") else { throw Malformed(description: "fcm block missing") }
                fcmMessage = Data(try Self.fcmRequest(message, envelopeId: id, notificationId: notificationId))
            }
        } catch let error as Malformed {
            throw error
        } catch {
            throw Malformed(description: "\(route.rawValue == "ios" ? "apns" : "fcm") block unreadable")
        }
    }

    /// `{"message": …}` for FCM: the app can drop a duplicate by `data.envelopeId`, as an APNs
    /// app can by `apns-id`; and a copy pushed again (a gateway killed between push and record)
    /// replaces the first on the device, by `android.notification.tag` (one the envelope set is kept).
    static func fcmRequest(_ message: JSONMembers, envelopeId: String, notificationId: String) throws -> [UInt8] {
        let quotedId = Array(JSONText.quoted(envelopeId).utf8)
        let ids: [(key: String, value: [UInt8])] = [
            ("envelopeId", quotedId), ("notificationId", Array(JSONText.quoted(notificationId).utf8)),
        ]
        let data = try message.object("data")?.writing(replacing: ids) ?? JSONMembers.writing(ids)
        let android = try message.object("android")
        let notification = try android?.object("notification")
        let tagged =
            if let notification {
                notification["tag"] == nil ? notification.writing(replacing: [("tag", quotedId)]) : Array(notification.bytes)
            } else {
                JSONMembers.writing([("tag", quotedId)])
            }
        let androidOut = android?.writing(replacing: [("notification", tagged)]) ?? JSONMembers.writing([("notification", tagged)])
        return JSONMembers.writing([("message", message.writing(replacing: [("data", data), ("android", androidOut)]))])
    }
}

/// Pushes envelopes to APNs and FCM over HTTP/2 (AsyncHTTPClient, one connection pool per host,
/// many streams in flight on each) and says what became of each. Credentials a service refuses
/// are renewed once per push; refused again, the push's outcome is `credentialsRefused`.
public final class PushSender: Sendable {
    let client: HTTPClient
    let settings: PushSettings
    let apnsTokens: SharedCredential?
    let fcmTokens: SharedCredential?
    let fcmProject: String?

    /// Reads the keys the settings name; a key that cannot be read throws.
    public init(settings: PushSettings) async throws {
        var tls = TLSConfiguration.makeClientConfiguration()
        if let caFile = settings.caFile { tls.additionalTrustRoots = [.file(caFile)] }
        var configuration = HTTPClient.Configuration(tlsConfiguration: tls, timeout: .init(connect: .seconds(10), read: .seconds(30)))
        configuration.httpVersion = .automatic
        let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
        self.client = client
        self.settings = settings
        do {
            if let apns = settings.apns {
                let pem = try String(contentsOfFile: apns.keyPath, encoding: .utf8)
                apnsTokens = try await .apnsProviderToken(keyPEM: pem, keyId: apns.keyId, teamId: apns.teamId)
            } else {
                apnsTokens = nil
            }
            if let fcm = settings.fcm {
                let account = try ServiceAccount.read(path: fcm.credentialsPath)
                fcmTokens = try await .fcmAccessToken(account: account, client: client)
                fcmProject = account.projectId
            } else {
                fcmTokens = nil
                fcmProject = nil
            }
        } catch {
            try? await client.shutdown()
            throw error
        }
    }

    public func shutdown() async throws { try await client.shutdown() }

    /// Pushes one envelope; never throws: every failure is an outcome.
    public func send(_ envelope: PushEnvelope) async -> PushOutcome {
        let first = await attempt(envelope)
        guard case .credentialsRefused = first.outcome else { return first.outcome }
        await first.renew()
        return await attempt(envelope).outcome
    }

    /// One try, and how to renew the credential it used if the service refused it.
    private func attempt(_ envelope: PushEnvelope) async -> (outcome: PushOutcome, renew: @Sendable () async -> Void) {
        switch envelope.route {
        case .ios:
            guard let apns = settings.apns, let tokens = apnsTokens else { return (.failed(reason: "NoAPNsCredentials"), {}) }
            do {
                let jwt = try await tokens.value()
                return (try await apnsPush(envelope, apns: apns, jwt: jwt), { await tokens.refused(jwt) })
            } catch {
                return (.failed(reason: "ProviderTokenUnsigned"), {})
            }
        case .android:
            guard let fcm = settings.fcm, let tokens = fcmTokens, let project = fcmProject else {
                return (.failed(reason: "NoFCMCredentials"), {})
            }
            let access: String
            do {
                access = try await tokens.value()
            } catch PushCredentialError.refused(let reason) {
                return (.credentialsRefused(reason: reason), {})
            } catch {
                return (.retry(reason: "TokenEndpointUnavailable", after: nil), {})
            }
            return (await fcmPush(envelope, baseURL: fcm.baseURL, project: project, access: access), { await tokens.refused(access) })
        }
    }

    private func apnsPush(_ envelope: PushEnvelope, apns: PushSettings.APNs, jwt: String) async throws -> PushOutcome {
        var request = HTTPClientRequest(url: "\(apns.baseURL)/3/device/\(envelope.pushToken)")
        request.method = .POST
        request.headers.add(name: "authorization", value: "bearer \(jwt)")
        request.headers.add(name: "apns-topic", value: apns.topic)
        request.headers.add(name: "apns-id", value: envelope.id)
        for name in ["apns-push-type", "apns-priority", "apns-expiration"] {
            if let value = envelope.apnsHeaders[name] { request.headers.add(name: name, value: value) }
        }
        // A copy pushed again (a gateway killed between push and record) replaces the first on the device.
        request.headers.add(name: "apns-collapse-id", value: envelope.apnsHeaders["apns-collapse-id"] ?? envelope.id)
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: envelope.apnsPayload))
        return await exchange(request) { status, body, retryAfter in
            let reason = (try? JSONSerialization.jsonObject(with: body) as? [String: Any])?["reason"] as? String
            return APNsAnswer.outcome(status: status, reason: reason, retryAfter: retryAfter)
        }
    }

    private func fcmPush(_ envelope: PushEnvelope, baseURL: String, project: String, access: String) async -> PushOutcome {
        var request = HTTPClientRequest(url: "\(baseURL)/v1/projects/\(project)/messages:send")
        request.method = .POST
        request.headers.add(name: "authorization", value: "Bearer \(access)")
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: envelope.fcmMessage))
        return await exchange(request) { status, body, retryAfter in
            let object = (try? JSONSerialization.jsonObject(with: body) as? [String: Any]) ?? [:]
            return FCMAnswer.outcome(status: status, body: object, retryAfter: retryAfter)
        }
    }

    /// Sends a request and reads its answer; no answer at all is worth another try later.
    private func exchange(_ request: HTTPClientRequest, classify: (Int, Data, String?) -> PushOutcome) async -> PushOutcome {
        do {
            let response = try await client.execute(request, timeout: .seconds(30))
            let body = try await response.body.collect(upTo: 64 * 1024)
            return classify(Int(response.status.code), Data(body.readableBytesView), response.headers.first(name: "retry-after"))
        } catch {
            return .retry(reason: "Unreachable", after: nil)
        }
    }
}
