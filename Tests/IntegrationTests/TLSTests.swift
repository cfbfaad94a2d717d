import AsyncHTTPClient
import Foundation
import HeraldCore
import LoadApp
import NIOCore
import NIOSSL
import TestSupport
import Testing

/// A CA, a server certificate for `localhost`, a client certificate, and a CA that signed neither,
/// made with `openssl` for one test.
struct TestCertificates {
    let folder: URL
    func path(_ name: String) -> String { folder.appendingPathComponent(name).path }

    init(in folder: URL) throws {
        self.folder = folder
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
        try Self.openssl(
            ["req", "-x509"] + key + ["-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=Herald test CA"],
            in: folder
        )
        try Self.openssl(
            ["req", "-x509"] + key + ["-keyout", "other.key", "-out", "other.pem", "-days", "2", "-subj", "/CN=Another CA"],
            in: folder
        )
        for (name, subject, extensions) in [
            ("server", "/CN=localhost", "subjectAltName=DNS:localhost\nextendedKeyUsage=serverAuth\n"),
            ("client", "/CN=herald-test-client", "extendedKeyUsage=clientAuth\n"),
        ] {
            try extensions.write(to: folder.appendingPathComponent("\(name).ext"), atomically: true, encoding: .utf8)
            try Self.openssl(["req"] + key + ["-keyout", "\(name).key", "-out", "\(name).csr", "-subj", subject], in: folder)
            try Self.openssl(
                [
                    "x509", "-req", "-in", "\(name).csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-out", "\(name).pem",
                    "-days", "2", "-extfile", "\(name).ext",
                ],
                in: folder
            )
        }
        // The broker runs as this user but reads its key through Erlang: keep it readable.
        for name in ["server.key", "client.key"] {
            try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: path(name))
        }
    }

    static func openssl(_ arguments: [String], in folder: URL) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        process.currentDirectoryURL = folder
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else { throw TestSetupError("openssl \(arguments.joined(separator: " ")) failed") }
    }
}

extension BrokerTests {
    /// `amqps://`: a service reaches a broker's TLS listener with the broker's certificate and host
    /// name verified (and its own client certificate presented), and every way verification can
    /// fail stops it at start with one line naming the setting to fix. There is no setting that
    /// skips the check; without a CA file the system's trust store is used, and it refuses too.
    @Suite struct BrokerTLSTests {
        static let node = "tls"
        static let plainPort = 5694
        static let tlsPort = 5695

        @Test func servicesReachTheBrokerOverVerifiedTLSAndABadCertificateIsOneLineAtStart() async throws {
            let certificates = try TestCertificates(
                in: FileManager.default.temporaryDirectory.appendingPathComponent("tls-\(UUID().uuidString)")
            )
            defer { try? FileManager.default.removeItem(at: certificates.folder) }
            try LocalScript.run(
                "broker.sh",
                ["start", Self.node, String(Self.plainPort)],
                environment: ["HERALD_BROKER_TLS_DIR": certificates.folder.path, "HERALD_BROKER_TLS_PORT": String(Self.tlsPort)]
            )
            defer { _ = try? LocalScript.run("broker.sh", ["stop", Self.node]) }

            let stack = try LocalStack()
            defer { stack.stop() }
            try await stack.importDirectory(nestedGroupDirectory(tenant: "tls", users: 1))
            var secure = stack.environment
            secure["HERALD_AMQP_URL"] = "amqps://guest:guest@localhost:\(Self.tlsPort)/%2f"
            secure["HERALD_AMQP_TLS_CA"] = certificates.path("ca.pem")
            secure["HERALD_AMQP_TLS_CERT"] = certificates.path("client.pem")
            secure["HERALD_AMQP_TLS_KEY"] = certificates.path("client.key")

            // Verified, with a client certificate: ingest is ready and its publishes are confirmed.
            let ingest = try ServiceProcess("herald-ingest", environment: secure)
            defer { ingest.terminate() }
            #expect(await eventually(timeout: .seconds(30)) { await stack.isReady() }, "ingest ready over TLS: \(ingest.log)")
            let token = try await stack.issueToken(tenant: "tls")
            let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: stack.port, group: .singleton)
            defer { Task { await connection.close() } }
            let response = try await connection.sendToGroups(token: token)
            #expect(response.status == 202, "\(String(buffer: response.body))")
            let connections = try LocalScript.run(
                "broker.sh",
                ["ctl", Self.node, "list_connections", "ssl", "peer_cert_subject", "--silent"]
            )
            #expect(connections.contains("true"), "the connection is TLS: \(connections)")
            #expect(connections.contains("CN=herald-test-client"), "the client certificate was presented: \(connections)")
            ingest.terminate()

            func with(_ changes: [String: String?]) -> [String: String] {
                var environment = secure
                for (key, value) in changes { environment[key] = value }
                return environment
            }
            let refused: [(String, [String: String], [String])] = [
                (
                    "a CA that did not sign it", with(["HERALD_AMQP_TLS_CA": certificates.path("other.pem")]),
                    ["HERALD_AMQP_TLS_CA", "not signed"]
                ),
                ("no CA file: the system trust store", with(["HERALD_AMQP_TLS_CA": nil]), ["system trust store", "HERALD_AMQP_TLS_CA"]),
                (
                    "a host name the certificate does not name",
                    with(["HERALD_AMQP_URL": "amqps://guest:guest@127.0.0.1:\(Self.tlsPort)/%2f"]),
                    ["HERALD_AMQP_URL", "not for the host 127.0.0.1"]
                ),
                (
                    "amqps:// to a plain AMQP port", with(["HERALD_AMQP_URL": "amqps://guest:guest@localhost:\(Self.plainPort)/%2f"]),
                    ["HERALD_AMQP_URL", "TLS handshake failed"]
                ),
                (
                    "TLS files with amqp://", with(["HERALD_AMQP_URL": "amqp://guest:guest@localhost:\(Self.plainPort)/%2f"]),
                    ["HERALD_AMQP_TLS_CA", "not amqps://"]
                ),
                (
                    "a CA file that is not there", with(["HERALD_AMQP_TLS_CA": "/nonexistent/ca.pem"]),
                    ["HERALD_AMQP_TLS_CA", "/nonexistent/ca.pem"]
                ),
                ("a certificate without its key", with(["HERALD_AMQP_TLS_KEY": nil]), ["HERALD_AMQP_TLS_KEY"]),
            ]
            for (name, environment, expected) in refused {
                let process = try ServiceProcess("herald-dispatcher", environment: environment)
                let (status, output) = await process.finish()
                let lines = output.split(separator: "\n")
                #expect(status == 78, "\(name): \(output)")
                #expect(lines.count == 1, "\(name): one line: \(output)")
                for text in expected { #expect(output.contains(text), "\(name): \(output)") }
                #expect(!output.contains("guest:guest"), "\(name): no password")
            }
        }
    }

    /// HTTPS on ingest's own listener (`HERALD_HTTP_TLS_CERT`, `_KEY`): a client that trusts the
    /// CA reaches the API and the console, whose cookies are then `Secure` by default; plain HTTP
    /// to that port gets nothing; a certificate or key that cannot be read stops ingest at start.
    @Suite struct HTTPSTests {
        @Test func ingestServesHTTPSWithSecureConsoleCookies() async throws {
            let certificates = try TestCertificates(
                in: FileManager.default.temporaryDirectory.appendingPathComponent("https-\(UUID().uuidString)")
            )
            defer { try? FileManager.default.removeItem(at: certificates.folder) }
            let stack = try LocalStack()
            defer { stack.stop() }
            var environment = stack.environment
            environment["HERALD_HTTP_TLS_CERT"] = certificates.path("server.pem")
            environment["HERALD_HTTP_TLS_KEY"] = certificates.path("server.key")
            let ingest = try ServiceProcess("herald-ingest", environment: environment)
            defer { ingest.terminate() }

            var tls = TLSConfiguration.makeClientConfiguration()
            tls.trustRoots = .file(certificates.path("ca.pem"))
            var configuration = HTTPClient.Configuration(tlsConfiguration: tls)
            configuration.timeout = .init(connect: .seconds(2), read: .seconds(5))
            let client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
            let base = "https://localhost:\(stack.port)"
            #expect(
                await eventually(timeout: .seconds(30)) {
                    (try? await client.execute(HTTPClientRequest(url: base + "/health/ready"), timeout: .seconds(5)))?.status == .ok
                },
                "ready over HTTPS: \(ingest.log)"
            )
            let signIn = try await client.execute(HTTPClientRequest(url: base + "/console/sign-in"), timeout: .seconds(5))
            #expect(signIn.status == .ok)
            let cookies = signIn.headers["set-cookie"]
            #expect(!cookies.isEmpty && cookies.allSatisfy { $0.contains("Secure") }, "console cookies are Secure over HTTPS: \(cookies)")
            try await client.shutdown()

            // Plain HTTP to the HTTPS port is not served.
            #expect(await stack.readiness() != 200)
            // A client that does not trust the CA is refused by its own check.
            await #expect(throws: (any Error).self) {
                _ = try await HTTPClient.shared.execute(HTTPClientRequest(url: base + "/health/live"), timeout: .seconds(5))
            }
            ingest.terminate()

            var refused = stack.environment
            for (changes, key) in [
                (["HERALD_HTTP_TLS_CERT": certificates.path("server.pem")], "HERALD_HTTP_TLS_KEY"),
                (
                    ["HERALD_HTTP_TLS_CERT": certificates.path("server.key"), "HERALD_HTTP_TLS_KEY": certificates.path("server.key")],
                    "HERALD_HTTP_TLS_CERT"
                ),
                (
                    ["HERALD_HTTP_TLS_CERT": certificates.path("server.pem"), "HERALD_HTTP_TLS_KEY": "/nonexistent/key.pem"],
                    "HERALD_HTTP_TLS_KEY"
                ),
            ] {
                refused = stack.environment.merging(changes) { $1 }
                let (status, output) = await (try ServiceProcess("herald-ingest", environment: refused)).finish()
                #expect(status == 78, "\(changes): \(output)")
                #expect(output.split(separator: "\n").count == 1 && output.contains(key), "\(changes): \(output)")
            }
        }
    }

    /// PostgreSQL over TLS (`sslmode=verify-full`): a server that takes nothing else, reached with
    /// its certificate and host name verified; every way that can fail is one line at start naming
    /// `HERALD_DATABASE_URL`, and no mode encrypts without verifying.
    @Suite struct PostgresTLSTests {
        @Test func ingestUsesPostgreSQLOverVerifiedTLSAndABadCertificateIsOneLineAtStart() async throws {
            let certificates = try TestCertificates(
                in: FileManager.default.temporaryDirectory.appendingPathComponent("pg-tls-\(UUID().uuidString)")
            )
            defer { try? FileManager.default.removeItem(at: certificates.folder) }
            try LocalScript.run(
                "postgres.sh",
                ["start", "tls", "5437"],
                environment: ["HERALD_POSTGRES_TLS_DIR": certificates.folder.path]
            )
            defer { _ = try? LocalScript.run("postgres.sh", ["stop", "tls"]) }
            let ca = certificates.path("ca.pem")
            func url(host: String = "localhost", port: Int = 5437, _ query: String) -> String {
                "postgres://herald@\(host):\(port)/herald?\(query)"
            }

            let stack = try LocalStack()
            defer { stack.stop() }
            var secure = stack.environment
            secure["HERALD_DATABASE_URL"] = url("sslmode=verify-full&sslrootcert=\(ca)")
            let directory = certificates.folder.appendingPathComponent("directory.json")
            try HeraldJSON.encoder.encode(nestedGroupDirectory(tenant: "pgtls", users: 1)).write(to: directory)
            let imported = try ServiceProcess("heraldctl", arguments: ["directory", "import", directory.path], environment: secure)
            let (importStatus, importOutput) = await imported.finish()
            #expect(importStatus == 0, "the directory reaches PostgreSQL over TLS: \(importOutput)")

            let ingest = try ServiceProcess("herald-ingest", environment: secure)
            defer { ingest.terminate() }
            #expect(await eventually(timeout: .seconds(30)) { await stack.isReady() }, "ingest ready on PostgreSQL over TLS: \(ingest.log)")
            let token = try await stack.issueToken(tenant: "pgtls")
            let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: stack.port, group: .singleton)
            defer { Task { await connection.close() } }
            let response = try await connection.sendToGroups(token: token)
            #expect(response.status == 202, "\(String(buffer: response.body))")
            ingest.terminate()

            let refused: [(String, String, String)] = [
                (
                    "a CA that did not sign it", url("sslmode=verify-full&sslrootcert=\(certificates.path("other.pem"))"),
                    "not signed by a CA in sslrootcert"
                ),
                ("no sslrootcert: the system trust store", url("sslmode=verify-full"), "system trust store"),
                (
                    "a host the certificate does not name", url(host: "127.0.0.1", "sslmode=verify-full&sslrootcert=\(ca)"),
                    "not for the host 127.0.0.1"
                ),
                (
                    "the test's plain server", url(port: try Self.plainPort(), "sslmode=verify-full&sslrootcert=\(ca)"),
                    "does not accept TLS"
                ),
                ("no TLS to a server that requires it", url("sslmode=disable"), "HERALD_DATABASE_URL"),
                ("sslmode=require, which checks nothing", url("sslmode=require"), "verify-full"),
                ("an sslrootcert that is not there", url("sslmode=verify-full&sslrootcert=/nonexistent/ca.pem"), "/nonexistent/ca.pem"),
            ]
            for (name, databaseURL, expected) in refused {
                let process = try ServiceProcess("herald-ingest", environment: secure.merging(["HERALD_DATABASE_URL": databaseURL]) { $1 })
                let (status, output) = await process.finish()
                let lines = output.split(separator: "\n")
                if name.hasPrefix("no TLS") {
                    // The server refuses it; not a certificate problem, so ingest fails as for any
                    // database it cannot open, and never reaches the data without TLS.
                    #expect(status != 0, "\(name): \(output)")
                    continue
                }
                #expect(status == 78, "\(name): \(output)")
                #expect(lines.count == 1, "\(name): one line: \(output)")
                #expect(output.contains("HERALD_DATABASE_URL") && output.contains(expected), "\(name): \(output)")
            }
        }

        /// The port of the test's own PostgreSQL server, which has no TLS.
        static func plainPort() throws -> Int {
            let url = try #require(ProcessInfo.processInfo.environment["HERALD_TEST_DATABASE_URL"].flatMap(URLComponents.init(string:)))
            return try #require(url.port)
        }
    }
}
