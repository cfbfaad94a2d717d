public import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
public import PushSandboxApp

/// A test's hand on a running herald-push-sandbox: what to refuse (`POST /sandbox/script`), and
/// what it accepted (`GET /sandbox/pushes`). Its client trusts the stand-in's CA only.
public struct SandboxControl: Sendable {
    public let url: String
    public let client: HTTPClient

    public init(url: String, caFile: String) {
        self.url = url
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(caFile)
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
    }

    public func shutdown() async { try? await client.shutdown() }

    /// Adds to what the stand-in refuses (a `SandboxScript` as JSON).
    public func script(_ json: String) async throws {
        var request = HTTPClientRequest(url: "\(url)/sandbox/script")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: json))
        let response = try await client.execute(request, timeout: .seconds(10))
        guard response.status == .noContent else { throw TestSetupError("sandbox script \(json) refused: \(response.status)") }
    }

    /// Forgets the script, the record and the counts.
    public func reset() async throws {
        var request = HTTPClientRequest(url: "\(url)/sandbox/reset")
        request.method = .POST
        _ = try await client.execute(request, timeout: .seconds(10))
    }

    public struct Snapshot: Decodable, Sendable {
        public var pushes: [SandboxPush]
        public var stats: SandboxStats
    }

    /// What the stand-in accepted, and its counts.
    public func pushes() async throws -> Snapshot {
        let response = try await client.execute(HTTPClientRequest(url: "\(url)/sandbox/pushes"), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 64 << 20)
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(Snapshot.self, from: Data(body.readableBytesView))
    }
}
