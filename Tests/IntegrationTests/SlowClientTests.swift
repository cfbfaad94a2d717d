import Foundation
import LoadApp
import NIOCore
import NIOPosix
import TestSupport
import Testing

extension BrokerTests {
    @Suite struct SlowClientTests {
        /// Clients that stall — connected and silent, or stopped part-way through a request — neither
        /// block anyone else nor keep their connection past `HERALD_HTTP_IDLE_TIMEOUT`.
        @Test func slowClientsBlockNobodyAndAreDisconnected() async throws {
            let stack = try LocalStack(extra: ["HERALD_HTTP_IDLE_TIMEOUT": "2"])
            defer { stack.stop() }
            try await stack.startIngest()

            let partial = [
                "",  // connects and says nothing
                "POST /v1/devices/d-phone/notifications HTTP/1.1\r\nHost: x\r\n",  // headers never finish
                "POST /v1/devices/d-phone/notifications HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"ti",
            ]
            var stalled: [any Channel] = []
            for _ in 0..<10 {
                for text in partial {
                    let channel = try await ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton).connect(
                        host: "127.0.0.1",
                        port: stack.port
                    ).get()
                    if !text.isEmpty { try await channel.writeAndFlush(ByteBuffer(string: text)).get() }
                    stalled.append(channel)
                }
            }

            // Everyone else is served while 30 connections stall.
            let connection = try await HTTPConnection.connect(host: "127.0.0.1", port: stack.port, group: .singleton)
            for _ in 0..<20 {
                #expect(try await connection.request(.GET, "/health/live", timeout: .seconds(5)).status == 200)
            }
            await connection.close()

            // And the stalled connections are closed by ingest.
            let closed = await eventually(timeout: .seconds(15)) { stalled.allSatisfy { !$0.isActive } }
            #expect(closed, "\(stalled.filter(\.isActive).count) of \(stalled.count) stalled connections still open")
            for channel in stalled where channel.isActive { try? await channel.close() }
        }
    }
}
