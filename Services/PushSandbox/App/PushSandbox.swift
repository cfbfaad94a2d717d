public import Foundation
import HTTPTypes
public import Hummingbird
import HummingbirdHTTP2
import JWTKit
public import Logging
import NIOCore
import NIOHTTPTypes
import NIOSSL
import PushProtocol
import Synchronization

/// herald-push-sandbox: a local stand-in for APNs and FCM, for tests and `make run`. One TLS
/// port (HTTP/2 by ALPN, HTTP/1.1 for the control routes) serves
/// - `POST /3/device/{token}` as APNs does,
/// - `POST /token` and `POST /v1/projects/{id}/messages:send` as Google's OAuth2 and FCM v1 do,
/// - `POST /sandbox/script`, `POST /sandbox/reset`, `GET /sandbox/pushes[?platform=ios|android]`
///   for a test: what to refuse, and what was accepted; `GET /sandbox/stats` for the counts alone
///   (times as seconds since 1970, for a benchmark).
public struct PushSandbox: Sendable {
    public struct Options: Sendable {
        public var host = "127.0.0.1"
        public var port = 9443
        public var directory: URL
        public var accessTokenLifetime: TimeInterval = 3599
        public var recordLimit = 100_000

        public init(directory: URL) { self.directory = directory }
    }

    let options: Options
    let credentials: SandboxCredentials
    let state: SandboxState
    let logger: Logger

    public init(options: Options, logger: Logger) throws {
        self.options = options
        self.logger = logger
        credentials = try SandboxCredentials.loadOrCreate(in: options.directory)
        state = SandboxState(recordLimit: options.recordLimit)
    }

    /// Serves until the task is cancelled or the process is told to stop. `onReady` gets the
    /// base URL once the port is bound and the gateway's files name it.
    /// `@concurrent`: it is called from `main()`, on the main actor.
    @concurrent public func run(onReady: @escaping @Sendable (String) async -> Void = { _ in }) async throws {
        let baseURL = Mutex("https://\(options.host):\(options.port)")
        let apns = try await APNsEndpoint(credentials: credentials, state: state)
        let fcm = try await FCMEndpoint(credentials: credentials, state: state, accessTokenLifetime: options.accessTokenLifetime) {
            baseURL.withLock { $0 } + "/token"
        }
        let router = Router()
        router.post("/3/device/:token") { request, context in
            try await apns.push(request, token: context.parameters.get("token") ?? "", httpVersion: Self.httpVersion(request))
        }
        router.post("/token") { request, _ in try await fcm.grant(request) }
        router.post("/v1/projects/:project/:method") { request, context in
            guard context.parameters.get("method") == "messages:send" else { return Response(status: .notFound) }
            return try await fcm.send(request, project: context.parameters.get("project") ?? "", httpVersion: Self.httpVersion(request))
        }
        let state = state
        router.post("/sandbox/script") { request, context in
            let script = try await request.decode(as: SandboxScript.self, context: context)
            state.apply(script)
            return Response(status: .noContent)
        }
        router.post("/sandbox/reset") { _, _ in
            state.reset()
            return Response(status: .noContent)
        }
        router.get("/sandbox/pushes") { request, _ in
            let (pushes, stats) = state.snapshot(platform: request.uri.queryParameters.get("platform"))
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .iso8601
            encoder.outputFormatting = [.sortedKeys]
            let data = try encoder.encode(Snapshot(pushes: pushes, stats: stats))
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get("/sandbox/stats") { _, _ in
            let encoder = JSONEncoder()
            encoder.dateEncodingStrategy = .custom { date, encoder in
                // Microseconds: a benchmark's rate is read from the first and last push.
                var container = encoder.singleValueContainer()
                try container.encode(date.timeIntervalSince1970)
            }
            encoder.outputFormatting = [.sortedKeys]
            let data = try encoder.encode(state.stats)
            return Response(status: .ok, headers: [.contentType: "application/json"], body: .init(byteBuffer: ByteBuffer(bytes: data)))
        }
        router.get("/health") { _, _ in "ok" }

        let tls = TLSConfiguration.makeServerConfiguration(
            certificateChain: try NIOSSLCertificate.fromPEMBytes(Array(credentials.serverCertificatePEM.utf8)).map { .certificate($0) },
            privateKey: .privateKey(try NIOSSLPrivateKey(bytes: Array(credentials.serverKeyPEM.utf8), format: .pem))
        )
        let credentials = credentials
        let logger = logger
        let host = options.host
        let app = Application(
            router: router,
            server: try .http2Upgrade(
                tlsConfiguration: tls,
                configuration: .init(streamConfiguration: .init(additionalChannelHandlers: [HTTPVersionMarker()]))
            ),
            configuration: .init(address: .hostname(options.host, port: options.port), serverName: "herald-push-sandbox"),
            onServerRunning: { channel in
                let url = "https://\(host):\(channel.localAddress?.port ?? 0)"
                baseURL.withLock { $0 = url }
                do {
                    try credentials.writeGatewayFiles(baseURL: url)
                } catch {
                    logger.error(
                        "cannot write the gateway's files",
                        metadata: ["error": "\(error)", "folder": "\(credentials.directory.path)"]
                    )
                }
                logger.info(
                    "herald-push-sandbox listening",
                    metadata: ["url": "\(url)", "gateway.env": "\(credentials.environmentPath.path)"]
                )
                await onReady(url)
            },
            logger: logger
        )
        try await app.runService()
    }

    /// A provider token signed with the folder's APNs key, as a gateway would make it, for a
    /// client other than herald-gateway (h2load in `make bench-gateway`).
    public static func providerToken(directory: URL) async throws -> String {
        let credentials = try SandboxCredentials.loadOrCreate(in: directory)
        let keys = JWTKeyCollection()
        let kid = JWKIdentifier(string: credentials.apnsKeyId)
        await keys.add(ecdsa: try ES256PrivateKey(backing: credentials.apnsKey), kid: kid)
        let now = Date(timeIntervalSince1970: Date().timeIntervalSince1970.rounded(.down))
        return try await keys.sign(APNsProviderClaims(teamId: credentials.apnsTeamId, issuedAt: now), kid: kid)
    }

    static func httpVersion(_ request: Request) -> String {
        request.headers[HTTPVersionMarker.field] ?? "http/1.1"
    }

    struct Snapshot: Encodable {
        var pushes: [SandboxPush]
        var stats: SandboxStats
    }
}

/// Marks each request with the HTTP version it came over (`x-sandbox-http-version: h2` on an
/// HTTP/2 stream), replacing whatever a client sent under that name: Hummingbird hands HTTP/1.1
/// and HTTP/2 requests to the same routes, and APNs answers HTTP/2 only.
final class HTTPVersionMarker: ChannelInboundHandler, RemovableChannelHandler {
    typealias InboundIn = HTTPRequestPart
    typealias InboundOut = HTTPRequestPart
    static let field = HTTPField.Name("x-sandbox-http-version")!

    private var version = "http/1.1"

    /// An HTTP/1.1 connection's pipeline holds the TLS handler; an HTTP/2 stream's does not (its
    /// connection's does).
    func handlerAdded(context: ChannelHandlerContext) {
        if (try? context.pipeline.syncOperations.handler(type: NIOSSLServerHandler.self)) == nil { version = "h2" }
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        guard case .head(var head) = unwrapInboundIn(data) else {
            context.fireChannelRead(data)
            return
        }
        head.headerFields[Self.field] = version
        context.fireChannelRead(wrapInboundOut(.head(head)))
    }
}
