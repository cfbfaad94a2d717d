import Foundation
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
    /// Connections each process keeps at most.
    public var maximumConnections = 20

    /// Parses a `postgres://` (or `postgresql://`) URL; the error says what is wrong, never the password.
    public init(url text: String) throws(PostgresURLError) {
        guard let url = URLComponents(string: text), let scheme = url.scheme, ["postgres", "postgresql"].contains(scheme) else {
            throw PostgresURLError(problem: "must be postgres://user:password@host:port/database")
        }
        guard let host = url.host, !host.isEmpty else { throw PostgresURLError(problem: "names no host") }
        guard let user = url.user, !user.isEmpty else { throw PostgresURLError(problem: "names no user") }
        let database = String(url.path.drop { $0 == "/" })
        guard !database.isEmpty else { throw PostgresURLError(problem: "names no database (postgres://…/DATABASE)") }
        for item in url.queryItems ?? [] where item.name == "sslmode" && item.value != "disable" {
            throw PostgresURLError(problem: "sslmode=\(item.value ?? "") is not supported yet; use sslmode=disable on a trusted network")
        }
        self.host = host
        self.port = url.port ?? 5432
        self.user = user.removingPercentEncoding ?? user
        self.password = url.password.map { $0.removingPercentEncoding ?? $0 }
        self.database = database.removingPercentEncoding ?? database
    }

    /// The URL without its password, for logs.
    public var redactedDescription: String {
        "postgres://\(user)\(password == nil ? "" : ":***")@\(host):\(port)/\(database)"
    }

    /// One connection of its own, for the schema migration that runs before the pool does.
    var connectionConfiguration: PostgresConnection.Configuration {
        var configuration = PostgresConnection.Configuration(
            host: host,
            port: port,
            username: user,
            password: password,
            database: database,
            tls: .disable
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

    package var clientConfiguration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: host,
            port: port,
            username: user,
            password: password,
            database: database,
            tls: .disable
        )
        configuration.options.connectTimeout = connectTimeout
        configuration.options.maximumConnections = maximumConnections
        configuration.options.additionalStartupParameters = startupParameters
        return configuration
    }
}

/// A `HERALD_DATABASE_URL` that cannot be used, and why.
public struct PostgresURLError: Error, CustomStringConvertible, Sendable {
    public var problem: String
    public var description: String { problem }
}
