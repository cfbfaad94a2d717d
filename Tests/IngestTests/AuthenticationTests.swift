import Auth
import Foundation
import HeraldCore
import JWTKit
import SQLiteStore
import Store
import TestSupport
import Testing

/// Claims shaped like Herald's, for minting hostile tokens.
struct ForgedClaims: JWTPayload {
    var tid: String
    var sub: SubjectClaim
    var exp: ExpirationClaim
    var nbf: NotBeforeClaim?
    var aud: AudienceClaim?
    var iss: IssuerClaim?
    func verify(using algorithm: some JWTAlgorithm) async throws {}
}

func forge(
    secret: String = IngestHarness.secret,
    digest: DigestAlgorithm = .sha256,
    tenant: String = "a",
    principal: String = "p-admin",
    exp: Date = Date().addingTimeInterval(600),
    nbf: Date? = nil,
    aud: String? = nil,
    iss: String? = nil
) async throws -> String {
    let keys = JWTKeyCollection()
    await keys.add(hmac: HMACKey(from: secret), digestAlgorithm: digest)
    return try await keys.sign(
        ForgedClaims(
            tid: tenant,
            sub: SubjectClaim(value: principal),
            exp: ExpirationClaim(value: exp),
            nbf: nbf.map { NotBeforeClaim(value: $0) },
            aud: aud.map { AudienceClaim(value: [$0]) },
            iss: iss.map { IssuerClaim(value: $0) }
        )
    )
}

func base64URL(_ text: String) -> String {
    Data(text.utf8).base64EncodedString().replacingOccurrences(of: "=", with: "").replacingOccurrences(of: "+", with: "-")
        .replacingOccurrences(of: "/", with: "_")
}

let deviceSend = #"{"title":"Hello","body":"World"}"#

@Suite struct AuthenticationTests {
    @Test func aValidTokenIsAccepted() async throws {
        let harness = try await IngestHarness(publisher: RecordingPublisher())
        let token = try await forge()
        try await harness.run { client in
            let status1 = try await client.send(.post, "/v1/devices/d-phone/notifications", token: token, body: deviceSend).status
            #expect(status1 == 202)
        }
    }

    @Test func hostileTokensAreRefused() async throws {
        let harness = try await IngestHarness(publisher: RecordingPublisher())
        let header = base64URL(#"{"alg":"none","typ":"JWT"}"#)
        let payload = base64URL(#"{"tid":"a","sub":"p-admin","exp":\#(Int(Date().timeIntervalSince1970) + 600)}"#)
        let valid = try await forge()
        let parts = valid.split(separator: ".")
        let tokens: [(String, String)] = [
            ("alg none", "\(header).\(payload)."),
            ("alg none with the valid signature", "\(header).\(payload).\(parts[2])"),
            ("HS384 with the right key", try await forge(digest: .sha384)),
            ("wrong key", try await forge(secret: "another-secret-that-is-32-bytes-long!!-and-more")),
            ("expired", try await forge(exp: Date().addingTimeInterval(-5))),
            ("not yet valid", try await forge(nbf: Date().addingTimeInterval(600))),
            ("tampered payload", "\(parts[0]).\(base64URL(#"{"tid":"b","sub":"p-admin","exp":9999999999}"#)).\(parts[2])"),
            ("not a JWT", "hello"),
            ("unknown principal", try await forge(principal: "ghost")),
            ("unknown tenant", try await forge(tenant: "nowhere")),
        ]
        try await harness.run { client in
            for (name, token) in tokens {
                let answer = try await client.send(.post, "/v1/devices/d-phone/notifications", token: token, body: deviceSend)
                #expect(answer.status == 401, "\(name)")
                #expect(answer.headers["Content-Type"] == "application/problem+json", "\(name)")
            }
            let status2 = try await client.send(.post, "/v1/devices/d-phone/notifications", body: deviceSend).status
            #expect(status2 == 401)
            let basic = try await client.send(
                .post,
                "/v1/devices/d-phone/notifications",
                body: deviceSend,
                headers: ["Authorization": "Basic dTpw"]
            )
            #expect(basic.status == 401)
        }
        #expect((harness.publisher as! RecordingPublisher).published.isEmpty)
    }

    /// Ingest keeps the tokens it verified; a kept token still ends at its `exp`, and a refused
    /// one is not kept.
    @Test func aTokenVerifiedBeforeStillExpires() async throws {
        let tokens = await TokenService(settings: try TokenSettings(secret: IngestHarness.secret))
        let now = Date()
        let token = try await tokens.issue(tenantId: "a", principalId: "p-admin", ttl: 60, now: now)
        #expect(try await tokens.verify(token, now: now).principalId == "p-admin")
        #expect(try await tokens.verify(token, now: now.addingTimeInterval(59)).tenantId == "a")
        await #expect(throws: TokenError.self) { try await tokens.verify(token, now: now.addingTimeInterval(61)) }
        let later = try await forge(nbf: now.addingTimeInterval(600))
        await #expect(throws: TokenError.self) { try await tokens.verify(later, now: now) }
        await #expect(throws: TokenError.self) { try await tokens.verify(later, now: now.addingTimeInterval(700)) }
        let tampered = token.dropLast(2) + (token.hasSuffix("AA") ? "BB" : "AA")
        await #expect(throws: TokenError.self) { try await tokens.verify(String(tampered), now: now) }
    }

    @Test func issuerAndAudienceAreCheckedWhenConfigured() async throws {
        let settings = try TokenSettings(secret: IngestHarness.secret, issuer: "herald-tests", audience: "herald")
        let harness = try await IngestHarness(publisher: RecordingPublisher(), settings: settings)
        let good = try await forge(aud: "herald", iss: "herald-tests")
        let wrongAudience = try await forge(aud: "someone-else", iss: "herald-tests")
        let wrongIssuer = try await forge(aud: "herald", iss: "evil")
        let neither = try await forge()
        try await harness.run { client in
            let status3 = try await client.send(.post, "/v1/devices/d-phone/notifications", token: good, body: deviceSend).status
            #expect(status3 == 202)
            let status4 = try await client.send(.post, "/v1/devices/d-phone/notifications", token: wrongAudience, body: deviceSend).status
            #expect(status4 == 401)
            let status5 = try await client.send(.post, "/v1/devices/d-phone/notifications", token: wrongIssuer, body: deviceSend).status
            #expect(status5 == 401)
            let status6 = try await client.send(.post, "/v1/devices/d-phone/notifications", token: neither, body: deviceSend).status
            #expect(status6 == 401)
        }
    }

    @Test func permissionsAreNamedAndReadAtRequestTime() async throws {
        let harness = try await IngestHarness(publisher: RecordingPublisher())
        let helpdesk = try await harness.token("a", "p-helpdesk-only")
        let sender = try await harness.token("a", "p-sender-only")
        let noRole = try await harness.token("a", "p-no-role")
        let both = try await harness.token("a", "p-admin")
        let groupSend = #"{"title":"Hi","body":"There","groupIds":["g-top"]}"#
        try await harness.run { client in
            let refused = try await client.send(.post, "/v1/notifications", token: helpdesk, body: groupSend)
            #expect(refused.status == 403)
            #expect(refused.field("permission") == "Organization.Update")
            let refusedDevice = try await client.send(.post, "/v1/devices/d-phone/notifications", token: sender, body: deviceSend)
            #expect(refusedDevice.status == 403)
            #expect(refusedDevice.field("permission") == "RemoteTasks.SendCustomNotifications")
            let status7 = try await client.send(.post, "/v1/notifications", token: noRole, body: groupSend).status
            #expect(status7 == 403)
            let status8 = try await client.send(.post, "/v1/notifications", token: sender, body: groupSend).status
            #expect(status8 == 202)
            let status9 = try await client.send(.post, "/v1/devices/d-phone/notifications", token: helpdesk, body: deviceSend).status
            #expect(status9 == 202)
            let status10 = try await client.send(.post, "/v1/devices/d-phone/notifications", token: both, body: deviceSend).status
            #expect(status10 == 202)
        }
        // The role goes; the same token stops working for what it gave.
        try await SQLiteDirectoryWriter(database: harness.database).importFile(
            DirectoryFile(principals: [Principal(id: "p-admin", tenantId: "a", roles: ["sender"])])
        )
        try await harness.run { client in
            let status11 = try await client.send(.post, "/v1/devices/d-phone/notifications", token: both, body: deviceSend).status
            #expect(status11 == 403)
            let status12 = try await client.send(.post, "/v1/notifications", token: both, body: groupSend).status
            #expect(status12 == 202)
        }
    }
}
