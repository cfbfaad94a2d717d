public import NIOCore
public import NIOHTTP1
public import NIOPosix

/// One keep-alive HTTP/1.1 connection to ingest, one request at a time.
///
/// herald-load needs nothing more than POST and GET with a JSON body, and a client of its
/// own keeps the load generator's cost small and visible: no pooling layer, no redirects.
public final class HTTPConnection: Sendable {
    /// A response: the status code and the body.
    public struct Response: Sendable {
        public var status: Int
        public var body: ByteBuffer
        /// The response's header fields, in order.
        public var headers: [(String, String)] = []

        /// The first field named `name` (any case).
        public func header(_ name: String) -> String? {
            headers.first { $0.0.caseInsensitiveCompare(name) == .orderedSame }?.1
        }
    }

    private let channel: any Channel
    private let host: String

    private init(channel: any Channel, host: String) {
        self.channel = channel
        self.host = host
    }

    /// Opens a connection to `host:port`.
    public static func connect(host: String, port: Int, group: MultiThreadedEventLoopGroup) async throws -> HTTPConnection {
        let channel = try await ClientBootstrap(group: group)
            .channelOption(.socketOption(.tcp_nodelay), value: 1)
            .connectTimeout(.seconds(5))
            .channelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.addHTTPClientHandlers()
                    try channel.pipeline.syncOperations.addHandler(ExchangeHandler())
                }
            }
            .connect(host: host, port: port).get()
        return HTTPConnection(channel: channel, host: "\(host):\(port)")
    }

    /// Whether the connection can still carry a request.
    public var isActive: Bool { channel.isActive }

    /// Sends one request and waits for its whole response; after `timeout` the request fails and
    /// the connection is closed, so a server that stopped answering cannot hang a run.
    public func request(
        _ method: HTTPMethod,
        _ path: String,
        headers: [(String, String)] = [],
        body: [UInt8]? = nil,
        timeout: TimeAmount = .seconds(30)
    ) async throws -> Response {
        var head = HTTPRequestHead(version: .http1_1, method: method, uri: path)
        head.headers.add(name: "Host", value: host)
        for (name, value) in headers { head.headers.add(name: name, value: value) }
        if let body { head.headers.add(name: "Content-Length", value: String(body.count)) }
        let promise = channel.eventLoop.makePromise(of: Response.self)
        let buffer = body.map { ByteBuffer(bytes: $0) }
        let channel = channel
        // Fails the request itself rather than relying on the close to do it: a connection that
        // is already closed reports no second close, and the request would wait forever.
        let deadline = channel.eventLoop.scheduleTask(in: timeout) {
            promise.fail(HTTPConnectionError.timedOut)
            channel.close(promise: nil)
        }
        defer { deadline.cancel() }
        // A connection closed since `isActive` was read has no handlers left to see the request:
        // the failed write is then the only news of it.
        let written = channel.eventLoop.makePromise(of: Void.self)
        written.futureResult.whenFailure { promise.fail($0) }
        channel.writeAndFlush(Exchange(head: head, body: buffer, promise: promise), promise: written)
        return try await promise.futureResult.get()
    }

    /// Closes the connection.
    public func close() async {
        try? await channel.close()
    }
}

/// Why a request failed without a response.
public enum HTTPConnectionError: Error {
    /// No whole response came within the request's timeout.
    case timedOut
}

/// A request waiting for its response.
struct Exchange: Sendable {
    var head: HTTPRequestHead
    var body: ByteBuffer?
    var promise: EventLoopPromise<HTTPConnection.Response>
}

/// Turns an `Exchange` into request parts and completes its promise with the response.
private final class ExchangeHandler: ChannelDuplexHandler {
    typealias InboundIn = HTTPClientResponsePart
    typealias OutboundIn = Exchange
    typealias OutboundOut = HTTPClientRequestPart

    private var waiting: [EventLoopPromise<HTTPConnection.Response>] = []
    private var status = 0
    private var headers: [(String, String)] = []
    private var body = ByteBuffer()
    /// Set once the connection is gone: a request written after that fails at once, since no
    /// response and no second `channelInactive` will ever come for it.
    private var closed = false

    func write(context: ChannelHandlerContext, data: NIOAny, promise: EventLoopPromise<Void>?) {
        let exchange = unwrapOutboundIn(data)
        guard !closed else {
            exchange.promise.fail(ChannelError.ioOnClosedChannel)
            promise?.fail(ChannelError.ioOnClosedChannel)
            return
        }
        waiting.append(exchange.promise)
        context.write(wrapOutboundOut(.head(exchange.head)), promise: nil)
        if let body = exchange.body { context.write(wrapOutboundOut(.body(.byteBuffer(body))), promise: nil) }
        context.writeAndFlush(wrapOutboundOut(.end(nil)), promise: promise)
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch unwrapInboundIn(data) {
        case .head(let head):
            status = Int(head.status.code)
            headers = head.headers.map { ($0.name, $0.value) }
            body.clear()
        case .body(var part):
            body.writeBuffer(&part)
        case .end:
            guard !waiting.isEmpty else { return }
            waiting.removeFirst().succeed(.init(status: status, body: body, headers: headers))
        }
    }

    func channelInactive(context: ChannelHandlerContext) {
        closed = true
        failAll(ChannelError.ioOnClosedChannel)
        context.fireChannelInactive()
    }

    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        failAll(error)
        context.close(promise: nil)
    }

    private func failAll(_ error: any Error) {
        let pending = waiting
        waiting.removeAll()
        for promise in pending { promise.fail(error) }
    }
}
