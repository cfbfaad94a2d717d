import LoadApp
import NIOCore
import NIOPosix
import Testing

/// herald-load's client must end every request, answered or not: a request left waiting hangs
/// the whole run (it did once, when ingest was killed between two requests on one connection).
@Suite(.timeLimit(.minutes(1))) struct HTTPConnectionTests {
    /// A TCP server that accepts connections and then either closes them at once or never answers.
    final class Server: Sendable {
        enum Behaviour { case closeAtOnce, neverAnswer }
        let channel: any Channel

        init(_ behaviour: Behaviour) async throws {
            channel = try await ServerBootstrap(group: MultiThreadedEventLoopGroup.singleton)
                .childChannelInitializer { child in
                    if behaviour == .closeAtOnce { return child.close() }
                    return child.eventLoop.makeSucceededVoidFuture()
                }
                .bind(host: "127.0.0.1", port: 0).get()
        }

        var port: Int { channel.localAddress!.port! }
        func stop() async { try? await channel.close() }
    }

    @Test func aRequestOnAConnectionTheServerAlreadyClosedFails() async throws {
        let server = try await Server(.closeAtOnce)
        let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: server.port, group: .singleton)
        while connection.isActive { try await Task.sleep(for: .milliseconds(10)) }
        // A timeout far beyond the suite's limit: only the failed write can end this request.
        await #expect(throws: (any Error).self) {
            try await connection.request(.GET, "/health/ready", timeout: .hours(1))
        }
        await server.stop()
    }

    @Test func aServerThatNeverAnswersTimesTheRequestOut() async throws {
        let server = try await Server(.neverAnswer)
        let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: server.port, group: .singleton)
        await #expect(throws: HTTPConnectionError.timedOut) {
            try await connection.request(.GET, "/health/ready", timeout: .milliseconds(200))
        }
        await server.stop()
    }
}
