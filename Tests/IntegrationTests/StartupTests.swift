import Foundation
import LoadApp
import NIOCore
import TestSupport
import Testing

extension BrokerTests {
    @Suite struct StartupTests {
        /// A configuration mistake stops a service at start with one line on standard error that
        /// names the key, and a non-zero status; never a crash, never a retry loop that looks alive.
        @Test(arguments: ["herald-ingest", "herald-dispatcher", "herald-gateway"])
        func aBadConfigurationStopsAtStartWithOneLineNamingTheKey(service: String) async throws {
            let stack = try LocalStack()
            defer { stack.stop() }
            // The gateway's credentials: the stand-in's (it makes them at its first start).
            var base = stack.environment
            if service == "herald-gateway" {
                try await stack.startSandbox()
                base = try stack.gatewayEnvironment()
            }
            var withoutSecret = stack.environment
            withoutSecret["HERALD_JWT_SECRET"] = ""
            let url = try Broker.url()
            let wrongPassword = url.replacingOccurrences(of: "guest:guest@", with: "guest:not-the-password@")
            var cases: [(environment: [String: String], key: String, status: Int32)] = [
                (["HERALD_AMQP_URL": "http://localhost:5672"], "HERALD_AMQP_URL", 78),
                (["HERALD_AMQP_URL": wrongPassword], "HERALD_AMQP_URL", 78),
                (["HERALD_AMQP_URL": url.replacingOccurrences(of: "%2f", with: "no-such-vhost")], "HERALD_AMQP_URL", 78),
                (["HERALD_AMQP_URL": "amqp://guest:guest@127.0.0.1:1/%2f", "HERALD_AMQP_STARTUP_TIMEOUT": "1"], "HERALD_AMQP_URL", 69),
                (["HERALD_AMQP_STARTUP_TIMEOUT": "soon"], "HERALD_AMQP_STARTUP_TIMEOUT", 78),
                (["HERALD_SHUTDOWN_TIMEOUT": "-3"], "HERALD_SHUTDOWN_TIMEOUT", 78),
                (["HERALD_LOG_FORMAT": "xml"], "HERALD_LOG_FORMAT", 78),
                (["HERALD_AMQP_URL_FILE": "/nonexistent/amqp-url"], "HERALD_AMQP_URL_FILE", 78),
            ]
            if service != "herald-gateway" { cases.append((["HERALD_THROTTLE_POLICY": "maybe"], "HERALD_THROTTLE_POLICY", 78)) }
            if service == "herald-gateway" {
                // An empty value is an unset one.
                let noCredentials = Dictionary(
                    uniqueKeysWithValues: [
                        "HERALD_APNS_KEY_PATH", "HERALD_APNS_KEY_ID", "HERALD_APNS_TEAM_ID", "HERALD_APNS_TOPIC",
                        "HERALD_FCM_CREDENTIALS_PATH",
                    ]
                    .map { ($0, "") }
                )
                cases += [
                    (noCredentials, "HERALD_APNS_KEY_PATH", 78),
                    (noCredentials.merging(["HERALD_APNS_KEY_ID": "K"]) { $1 }, "HERALD_APNS_KEY_PATH", 78),
                    (["HERALD_FCM_CREDENTIALS_PATH": "/nonexistent/account.json"], "HERALD_FCM_CREDENTIALS_PATH", 78),
                    (["HERALD_APNS_URL": "http://127.0.0.1:1"], "HERALD_APNS_URL", 78),
                    (["HERALD_GATEWAY_CONCURRENCY": "0"], "HERALD_GATEWAY_CONCURRENCY", 78),
                ]
            } else if service == "herald-ingest" {
                let identityProvider = ["HERALD_JWT_ISSUER": ProviderKey.issuer, "HERALD_JWT_AUDIENCE": ProviderKey.audience]
                cases += [
                    (withoutSecret, "HERALD_JWT_SECRET", 78),
                    (["HERALD_JWT_SECRET": "too-short"], "HERALD_JWT_SECRET", 78),
                    (["HERALD_JWT_SECRET_FILE": stack.folder.path], "HERALD_JWT_SECRET_FILE", 78),
                    (["HERALD_HTTP_PORT": "99999"], "HERALD_HTTP_PORT", 78),
                    (["HERALD_INGEST_EVENT_LOOPS": "0"], "HERALD_INGEST_EVENT_LOOPS", 78),
                    (["HERALD_INGEST_EVENT_LOOPS": "many"], "HERALD_INGEST_EVENT_LOOPS", 78),
                    (["HERALD_INGEST_RATE": "fast"], "HERALD_INGEST_RATE", 78),
                    (["HERALD_INGEST_RATE": "5", "HERALD_INGEST_BURST": "0"], "HERALD_INGEST_BURST", 78),
                    (["HERALD_JWKS_URL": "https://idp.example.test/keys"], "HERALD_JWT_ISSUER", 78),
                    (identityProvider.merging(["HERALD_JWKS_URL": "http://idp.example.test/keys"]) { $1 }, "HERALD_JWKS_URL", 78),
                    (identityProvider.merging(["HERALD_JWKS_PATH": "/nonexistent/jwks.json"]) { $1 }, "HERALD_JWKS_PATH", 78),
                ]
            } else {
                cases.append((["HERALD_DISPATCH_CONCURRENCY": "0"], "HERALD_DISPATCH_CONCURRENCY", 78))
                cases.append((["HERALD_AUDIT_RETENTION_DAYS": "0"], "HERALD_AUDIT_RETENTION_DAYS", 78))
            }
            for (environment, key, expected) in cases {
                let process = try ServiceProcess(service, environment: base.merging(environment) { $1 })
                let (status, output) = await process.finish()
                let lines = output.split(separator: "\n")
                #expect(status == expected, "\(service) with \(environment): \(output)")
                // A broker that does not answer is waited for, with one warning, before the last line.
                #expect(lines.count == (expected == 69 ? 2 : 1), "\(service) with \(environment): \(output)")
                let last = String(lines.last ?? "")
                #expect(last.hasPrefix("\(service): "), "\(service) with \(environment): \(last)")
                #expect(last.contains(key), "\(service) with \(environment): \(last)")
                #expect(!last.contains("not-the-password"), "the password is never printed")
            }
        }

        /// Secrets given as files (`<NAME>_FILE`, a container's secret mount, with the trailing line
        /// break editors add): ingest, the dispatcher and heraldctl run from them, and a send made
        /// with a token heraldctl signed from the file is accepted and dispatched.
        @Test func theServicesAndHeraldctlReadTheirSecretsFromFiles() async throws {
            let stack = try LocalStack()
            defer { stack.stop() }
            try await stack.importDirectory(nestedGroupDirectory(tenant: "files", users: 1))
            var environment = stack.environment
            for key in ["HERALD_JWT_SECRET", "HERALD_AMQP_URL"] {
                let file = stack.folder.appendingPathComponent("secret-\(key)")
                try (try #require(environment[key]) + "\n").write(to: file, atomically: true, encoding: .utf8)
                environment[key] = nil
                environment[key + "_FILE"] = file.path
            }
            let ingest = try ServiceProcess("herald-ingest", environment: environment)
            defer { ingest.terminate() }
            let dispatcher = try ServiceProcess("herald-dispatcher", environment: environment)
            defer { dispatcher.terminate() }
            #expect(await eventually(timeout: .seconds(30)) { await stack.isReady() }, "ingest ready: \(ingest.log)")
            let issued = try ServiceProcess(
                "heraldctl",
                arguments: ["token", "issue", "--tenant", "files", "--principal", "p-admin"],
                environment: environment,
                keepStandardError: false
            )
            let token = await issued.finish().output.trimmingCharacters(in: .whitespacesAndNewlines)
            let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: stack.port, group: .singleton)
            defer { Task { await connection.close() } }
            let response = try await connection.sendToGroups(token: token)
            #expect(response.status == 202, "\(String(buffer: response.body))")
            let id = try #require(
                (try JSONSerialization.jsonObject(with: Data(response.body.readableBytesView)) as? [String: Any])?["id"] as? String
            )
            var status = ""
            #expect(
                await eventually(timeout: .seconds(30)) {
                    let answer = try? await connection.request(
                        .GET,
                        "/v1/notifications/\(id)",
                        headers: [("Authorization", "Bearer \(token)")]
                    )
                    let object = answer.flatMap {
                        try? JSONSerialization.jsonObject(with: Data($0.body.readableBytesView)) as? [String: Any]
                    }
                    status = object?["status"] as? String ?? ""
                    return status == "dispatched"
                },
                "dispatched (\(status))"
            )
        }

        /// `HERALD_INGEST_EVENT_LOOPS`: ingest serves on that many event loops (NIO names their threads
        /// `NIO-SGLTN-…`), and its broker client's threads are named for `top -H` (`amqp-ingest`,
        /// `amqp-dl-ingest`), not after the loop that started them.
        @Test func ingestServesOnAsManyEventLoopsAsItIsGiven() async throws {
            let stack = try LocalStack(extra: ["HERALD_INGEST_EVENT_LOOPS": "3"])
            defer { stack.stop() }
            try await stack.importDirectory(nestedGroupDirectory(tenant: "loops", users: 1))
            let ingest = try await stack.startIngest()
            let task = "/proc/\(ingest.process.processIdentifier)/task"
            func threadNames() throws -> [String] {
                try FileManager.default.contentsOfDirectory(atPath: task).map {
                    try String(contentsOfFile: "\(task)/\($0)/comm", encoding: .utf8).trimmingCharacters(in: .newlines)
                }
            }
            let threads = try threadNames()
            // By name: NIO numbers its loops, and a thread a loop starts inherits the loop's name
            // unless it names itself (which the broker thread once did not).
            #expect(Set(threads.filter { $0.hasPrefix("NIO-SGLTN-") }).count == 3, "\(threads)")
            #expect(threads.contains("amqp-ingest"), "\(threads)")
            #expect(ingest.log.contains("\"http.event_loops\":\"3\""), "\(ingest.log)")
            let token = try await stack.issueToken(tenant: "loops")
            let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: stack.port, group: .singleton)
            defer { Task { await connection.close() } }
            let response = try await connection.sendToGroups(token: token)
            #expect(response.status == 202, "\(String(buffer: response.body))")
            // The publisher's deadline watchdog starts with the first publish, named after it too.
            let named = try await eventually(timeout: .seconds(5)) { try threadNames().contains("amqp-dl-ingest") }
            let afterSend = try threadNames()
            #expect(named, "\(afterSend)")
        }

        /// herald-ingest wired to an identity provider's JWKS file: the provider's RS256 and ES256
        /// tokens are accepted (tenant and principal from the configured claims), Herald's own HS256
        /// tokens are not, and no token reaches the log.
        @Test func ingestAcceptsAnIdentityProvidersTokensFromItsJWKSFile() async throws {
            let stack = try LocalStack()
            defer { stack.stop() }
            try await stack.importDirectory(nestedGroupDirectory(tenant: "idp", users: 1))
            let (rsa, ec) = (try await ProviderKey.rsa("rsa-1"), try await ProviderKey.ec("ec-1"))
            let jwks = stack.folder.appendingPathComponent("jwks.json")
            try ProviderKey.jwks([rsa, ec]).write(to: jwks)
            var environment = stack.environment
            environment["HERALD_JWKS_PATH"] = jwks.path
            environment["HERALD_JWT_ISSUER"] = ProviderKey.issuer
            environment["HERALD_JWT_AUDIENCE"] = ProviderKey.audience
            environment["HERALD_JWT_PRINCIPAL_CLAIM"] = "oid"
            let ingest = try ServiceProcess("herald-ingest", environment: environment)
            defer { ingest.terminate() }
            #expect(await eventually(timeout: .seconds(30)) { await stack.isReady() }, "ingest ready: \(ingest.log)")

            var claims = ProviderClaims()
            claims.tid = "idp"
            claims.sub = "an-object-id-that-is-not-a-principal"
            claims.oid = "p-admin"
            claims.jti = "idp-token-1"
            let issued = try ServiceProcess(
                "heraldctl",
                arguments: ["token", "issue", "--tenant", "idp", "--principal", "p-admin"],
                environment: stack.environment,
                keepStandardError: false
            )
            let hs256 = await issued.finish().output.trimmingCharacters(in: .whitespacesAndNewlines)
            let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: stack.port, group: .singleton)
            defer { Task { await connection.close() } }
            let tokens = [("RS256", try await rsa.token(claims), 202), ("ES256", try await ec.token(claims), 202), ("HS256", hs256, 401)]
            for (name, token, expected) in tokens {
                let response = try await connection.sendToGroups(token: token)
                #expect(response.status == expected, "\(name): \(String(buffer: response.body))")
            }
            for (name, token, _) in tokens {
                #expect(!ingest.log.contains(token), "the \(name) token is not logged")
            }

            // The audit trail names the provider's principal and token id for both sends, and nothing else.
            let audit = try ServiceProcess(
                "heraldctl",
                arguments: ["audit", "--tenant", "idp", "--since", "1h", "--json"],
                environment: stack.environment,
                keepStandardError: false
            )
            let (status, output) = await audit.finish()
            #expect(status == 0, "\(output)")
            let lines = output.split(separator: "\n").compactMap {
                try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
            }
            #expect(lines.count == 2, "\(output)")
            for line in lines {
                #expect(line["principalId"] as? String == "p-admin")
                #expect(line["tokenId"] as? String == "idp-token-1")
                #expect(line["route"] as? String == "api")
                #expect(line["groupIds"] as? [String] == ["all"])
            }
            #expect(!output.contains("\"t\"") && !output.contains("title"), "never the text")
        }
    }
}
