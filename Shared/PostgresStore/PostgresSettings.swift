import Foundation
import NIOSSL
package import PostgresNIO

/// Where the PostgreSQL server is and how long to wait for it, from a
/// `postgres://user:password@host:port/database` URL (`HERALD_DATABASE_URL`).
public struct PostgresSettings: Sendable, Equatable {
    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    /// How long opening a connection may take before the store counts as unavailable.
    public var connectTimeout: Duration = .seconds(5)
    /// The longest one statement may run (`statement_timeout`); a store that does not answer
    /// within it is unavailable, not hung.
    public var statementTimeout: Duration = .seconds(5)
    /// Connections each process holds open, at every moment (`HERALD_DATABASE_POOL_SIZE`): the
    /// most its store calls use at once.
    public var poolSize = PostgresSettings.defaultPoolSize
    /// Enough for one process here: ingest served as many sends per second on 8 as on 20.
    public static let defaultPoolSize = 8
    /// TLS (`sslmode=verify-full` or `verify-ca`); nil: plain (`sslmode=disable`, the default).
    public var tls: TLS?

    /// How a TLS connection to the server is made. The server's certificate is always verified
    /// against the trusted CAs; with `verify-full` its host name too. There is no mode that
    /// encrypts without verifying (libpq's `require`, `prefer`, `allow`).
    public struct TLS: Sendable, Equatable {
        /// Whether the certificate must also name the URL's host (`verify-full`).
        public var verifyHostname: Bool
        /// `sslrootcert`: PEM CAs trusted to sign the server's certificate; nil: the system's.
        public var rootCertificate: String?
        /// `sslcert` and `sslkey`: a client certificate and its key.
        public var clientCertificate: String?
        public var clientKey: String?

        public init(verifyHostname: Bool, rootCertificate: String? = nil, clientCertificate: String? = nil, clientKey: String? = nil) {
            self.verifyHostname = verifyHostname
            self.rootCertificate = rootCertificate
            self.clientCertificate = clientCertificate
            self.clientKey = clientKey
        }

        /// NIOSSL's client configuration for these settings.
        func configuration() throws -> TLSConfiguration {
            var configuration = TLSConfiguration.makeClientConfiguration()
            configuration.minimumTLSVersion = .tlsv12
            configuration.certificateVerification = verifyHostname ? .fullVerification : .noHostnameVerification
            if let rootCertificate { configuration.trustRoots = .file(rootCertificate) }
            if let clientCertificate, let clientKey {
                configuration.certificateChain = try NIOSSLCertificate.fromPEMFile(clientCertificate).map { .certificate($0) }
                configuration.privateKey = .file(clientKey)
            }
            return configuration
        }
    }

    /// Parses a `postgres://` (or `postgresql://`) URL; the error says what is wrong, never the password.
    public init(url text: String) throws(PostgresURLError) {
        guard let url = URLComponents(string: text), let scheme = url.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw PostgresURLError(problem: "must be postgres://user:password@host:port/database")
        }
        guard let host = url.host, !host.isEmpty else { throw PostgresURLError(problem: "names no host") }
        guard let user = url.user, !user.isEmpty else { throw PostgresURLError(problem: "names no user") }
        let database = String(url.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw PostgresURLError(problem: "names no database (postgres://…/DATABASE)") }
        tls = try Self.tls(url.queryItems ?? [])
        self.host = host
        self.port = url.port ?? 5432
        self.user = user.removingPercentEncoding ?? user
        self.password = url.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database.removingPercentEncoding ?? database
    }

    /// `sslmode` (`disable`, `verify-ca`, `verify-full`), `sslrootcert`, `sslcert`, `sslkey`.
    private static func tls(_ items: [URLQueryItem]) throws(PostgresURLError) -> TLS? {
        var values: [String: String] = [:]
        for item in items where item.name.hasPrefix("ssl") {
            // A TLS parameter Herald would ignore could leave the connection less safe than meant.
            guard ["sslmode", "sslrootcert", "sslcert", "sslkey"].contains(item.name) else {
                throw PostgresURLError(
                    problem: "has a TLS parameter Herald does not know: \(item.name) (it reads sslmode, sslrootcert, sslcert, sslkey)"
                )
            }
            values[item.name] = item.value ?? ""
        }
        let mode = values["sslmode"] ?? "disable"
        let verifyHostname: Bool
        switch mode {
        case "disable":
            // sslrootcert without sslmode would otherwise mean plain text where TLS was meant.
            guard values.keys.allSatisfy({ $0 == "sslmode" }) else {
                throw PostgresURLError(problem: "gives sslrootcert, sslcert or sslkey without sslmode=verify-full (or verify-ca)")
            }
            return nil
        case "verify-full": verifyHostname = true
        case "verify-ca": verifyHostname = false
        case "require", "prefer", "allow":
            throw PostgresURLError(
                problem: "sslmode=\(mode) would encrypt without checking the server's certificate; use sslmode=verify-full (or verify-ca)"
            )
        default:
            throw PostgresURLError(problem: "sslmode=\(mode) is not one of disable, verify-ca, verify-full")
        }
        guard (values["sslcert"] == nil) == (values["sslkey"] == nil) else {
            throw PostgresURLError(problem: "gives one of sslcert and sslkey: a client certificate and its key go together")
        }
        for name in ["sslrootcert", "sslcert", "sslkey"] {
            if let path = values[name], !FileManager.default.isReadableFile(atPath: path) {
                throw PostgresURLError(problem: "\(name) names a file that cannot be read: \(path)")
            }
        }
        return TLS(
            verifyHostname: verifyHostname,
            rootCertificate: values["sslrootcert"],
            clientCertificate: values["sslcert"],
            clientKey: values["sslkey"]
        )
    }

    /// The URL without its password, for logs.
    public var redactedDescription: String {
        let mode = tls.map { $0.verifyHostname ? "?sslmode=verify-full" : "?sslmode=verify-ca" } ?? ""
        return "postgres://\(user)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)\(mode)"
    }

    /// One connection of its own, for the schema migration that runs before the pool does.
    func connectionConfiguration() throws -> PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: host,
            port: port,
            username: user,
            password: password,
            database: database,
            tls: try tls.map { .require(try NIOSSLContext(configuration: try $0.configuration())) } ?? .disable
        )
        configuration.options.connectTimeout = .seconds(connectTimeout.components.seconds)
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }

    /// `statement_timeout` and `lock_timeout` on every connection, and the name `pg_stat_activity` shows.
    private var startupParameters: [(String, String)] {
        let milliseconds = statementTimeout.components.seconds * 1000 + statementTimeout.components.attoseconds / 1_000_000_000_000_000
        return [
            ("options", "-c statement_timeout=\(milliseconds) -c lock_timeout=\(milliseconds)"),
            ("application_name", "herald"),
        ]
    }

    package func clientConfiguration() throws -> PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host,
            port: port,
            username: user,
            password: password,
            database: database,
            tls: try tls.map { .require(try $0.configuration()) } ?? .disable
        )
        configuration.options.connectTimeout = connectTimeout
        // A pool of a fixed size, without keep-alive queries. postgres-nio starts two timers (a
        // keep-alive, and an idle timeout for a connection above the minimum) each time a connection
        // goes back to the pool, and cancels them when it is leased again: once per store call.
        // Each is a sleeping task, and a cancelled sleeping task keeps its memory until its time
        // has come (swiftlang/swift#60441): at thousands of calls a second, ingest grew by ~150 MB
        // and kept it, and every call paid for three tasks. With every connection a minimum one and
        // no keep-alive, no timer is started at all. A connection the server closes is replaced at
        // once either way; one lost without a word fails its next call within the bound.
        configuration.options.minimumConnections = poolSize
        configuration.options.maximumConnections = poolSize
        configuration.options.keepAliveBehavior = nil
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }
}

/// A `HERALD_DATABASE_URL` that cannot be used, and why.
public struct PostgresURLError: Error, CustomStringConvertible, Sendable {
    public var problem: String
    public var description: String { problem }
}

extension PostgresSettings {
    /// What a failed connection means when TLS is why, naming the parameter to look at; nil when
    /// the failure is not about TLS.
    public func tlsProblem(_ error: any Error) -> String? {
        guard let error = error as? PSQLError else { return nil }
        if error.code == .sslUnsupported {
            return "the server at \(host):\(port) does not accept TLS (sslmode=verify-full needs ssl=on there)"
        }
        guard let tls, error.code == .connectionError, let underlying = error.underlying else { return nil }
        let trusted = tls.rootCertificate.map { "a CA in sslrootcert (\($0))" } ?? "a CA of the system trust store (set sslrootcert)"
        if let extra = underlying as? NIOSSLExtraError, extra == .failedToValidateHostname {
            return "the server's certificate is not for the host \(host) the URL names"
        }
        if case NIOSSLError.handshakeFailed(let reason) = underlying {
            return "\(reason)".contains("CERTIFICATE_VERIFY_FAILED")
                ? "the server's certificate is not signed by \(trusted)"
                : "the TLS handshake with \(host):\(port) failed (\(reason))"
        }
        return nil
    }
}
