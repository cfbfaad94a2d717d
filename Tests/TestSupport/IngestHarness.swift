public import AMQP
public import Auth
public import Foundation
public import HTTPTypes
public import HeraldCore
public import HeraldRuntime
import Hummingbird
import HummingbirdTesting
import IngestApp
public import IngestCore
import Logging
import NIOCore
public import SQLiteStore
public import Store

/// A publisher that keeps what it is given, for tests of HTTP rules (never of delivery).
public final class RecordingPublisher: RequestPublisher, @unchecked Sendable {
    private let lock = NSLock()
    private var stored: [NotificationRequest] = []
    private var failing: (any Error)?

    public init() {}

    public var published: [NotificationRequest] { lock.withLock { stored } }
    /// Make every publish fail, by default as one whose confirm never came would.
    public func setFailing(_ value: Bool, with error: AMQPError = .confirmTimeout) { lock.withLock { failing = value ? error : nil } }

    public func publish(_ request: NotificationRequest) async throws {
        try lock.withLock {
            if let failing { throw failing }
            stored.append(request)
        }
    }

    public var isReady: Bool { lock.withLock { failing == nil } }
}

/// Header values by name, case-insensitive.
public struct Headers: Sendable {
    var values: [String: String]
    public subscript(name: String) -> String? { values[name.lowercased()] }
}

/// An HTTP answer, decoded for assertions.
public struct HTTPAnswer: Sendable {
    public var status: Int
    /// Response headers; names are matched case-insensitively.
    public var headers: Headers
    public var text: String
    /// Every `Set-Cookie` header, in order (`headers` keeps only the last).
    public var setCookies: [String] = []
    /// A top-level string field of a JSON body.
    public func field(_ name: String) -> String? {
        guard let object = (try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any] else { return nil }
        if let s = object[name] as? String { return s }
        if let n = object[name] as? NSNumber { return n.stringValue }
        return nil
    }
}

/// herald-ingest's router over a fresh store holding `sampleDirectory()`, and a token minter.
public struct IngestHarness: Sendable {
    public static let secret = "test-secret-long-enough-to-forge-hs384-and-hs512-tokens-with-it-0123"
    /// The harness's own way into its store.
    public let store: TestStore
    /// Every store ingest uses.
    public let stores: Stores
    public let tokens: TokenService
    public let publisher: any RequestPublisher
    let dependencies: IngestDependencies

    public init(
        publisher: any RequestPublisher,
        directory: DirectoryFile = sampleDirectory(),
        settings: TokenSettings? = nil,
        throttle: ThrottleSettings = ThrottleSettings(),
        engine: TestStoreEngine = .sqlite,
        rateLimit: CallerRateLimit? = nil,
        verifier: (any BearerTokenVerifier)? = nil
    ) async throws {
        store = try await engine.open()
        stores = store.stores
        try await stores.writer.importFile(directory)
        self.publisher = publisher
        self.tokens = await TokenService(settings: try settings ?? TokenSettings(secret: Self.secret))
        var logger = Logger(label: "test")
        logger.logLevel = .critical
        dependencies = IngestDependencies(
            stores: stores,
            publisher: publisher,
            tokens: verifier ?? tokens,
            logger: logger,
            throttle: throttle,
            rateLimit: rateLimit
        )
    }

    /// Another way into the same store, as another process (a dispatcher) would have.
    public func anotherHandle() async throws -> Stores {
        try await store.anotherHandle().stores
    }

    /// The SQLite database, for tests of that engine alone.
    public var database: HeraldDatabase {
        get throws {
            guard case .sqlite(let database) = store else { throw TestSetupError("this test needs the SQLite engine") }
            return database
        }
    }

    /// The SQLite file, for other processes of a test of that engine alone.
    public var databasePath: String {
        get throws { try database.pool.path }
    }

    /// A valid token for a principal.
    public func token(_ tenant: String = "a", _ principal: String = "p-admin", ttl: TimeInterval = 600) async throws -> String {
        try await tokens.issue(tenantId: tenant, principalId: principal, ttl: ttl)
    }

    /// Sends requests through the router (no sockets), one call per request.
    @discardableResult
    public func run<T: Sendable>(_ body: @Sendable (Client) async throws -> T) async throws -> T {
        let app = Application(router: buildRouter(dependencies), logger: dependencies.logger)
        return try await app.test(.router) { client in try await body(Client(client: client)) }
    }

    /// A thin client with Herald's defaults (JSON content type, bearer token).
    public struct Client: Sendable {
        let client: any TestClientProtocol

        public func send(
            _ method: HTTPRequest.Method,
            _ uri: String,
            token: String? = nil,
            body: String? = nil,
            contentType: String? = "application/json",
            headers extra: [String: String] = [:]
        ) async throws -> HTTPAnswer {
            try await send(method, uri, token: token, bytes: body.map { Array($0.utf8) }, contentType: contentType, headers: extra)
        }

        /// Sends raw bytes as the body (invalid UTF-8, NULs, anything).
        public func send(
            _ method: HTTPRequest.Method,
            _ uri: String,
            token: String? = nil,
            bytes body: [UInt8]?,
            contentType: String? = "application/json",
            headers extra: [String: String] = [:]
        ) async throws -> HTTPAnswer {
            var headers = HTTPFields()
            if let token { headers[.authorization] = "Bearer \(token)" }
            if body != nil, let contentType { headers[.contentType] = contentType }
            for (k, v) in extra { headers[HTTPField.Name(k)!] = v }
            return try await client.execute(uri: uri, method: method, headers: headers, body: body.map { ByteBuffer(bytes: $0) }) {
                response in
                var map: [String: String] = [:]
                for field in response.headers { map[field.name.canonicalName.lowercased()] = field.value }
                return HTTPAnswer(
                    status: Int(response.status.code),
                    headers: Headers(values: map),
                    text: String(buffer: response.body),
                    setCookies: response.headers[values: .setCookie]
                )
            }
        }
    }
}
