import AsyncHTTPClient
import Foundation
import NIOCore
import NIOSSL
import TestSupport

/// A test's hand on a running herald-push-sandbox: what to refuse, and what it accepted.
struct SandboxControl {
    let url: String
    let client: HTTPClient

    init(url: String, caFile: String) {
        self.url = url
        var tls = TLSConfiguration.makeClientConfiguration()
        tls.trustRoots = .file(caFile)
        client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: .init(tlsConfiguration: tls))
    }

    func shutdown() async { try? await client.shutdown() }

    func script(_ json: String) async throws {
        var request = HTTPClientRequest(url: "\(url)/sandbox/script")
        request.method = .POST
        request.headers.add(name: "content-type", value: "application/json")
        request.body = .bytes(ByteBuffer(string: json))
        let response = try await client.execute(request, timeout: .seconds(10))
        guard response.status == .noContent else { throw TestSetupError("sandbox script refused: \(response.status)") }
    }

    func reset() async throws {
        var request = HTTPClientRequest(url: "\(url)/sandbox/reset")
        request.method = .POST
        _ = try await client.execute(request, timeout: .seconds(10))
    }

    struct Push: Decodable {
        var platform: String
        var token: String
        var id: String?
        var headers: [String: String]
        var httpVersion: String
    }

    struct Stats: Decodable {
        var accepted: [String: Int]
        var refused: [String: Int]
        var duplicates: Int
        var providerTokens: Int
        var accessTokensIssued: Int
    }

    struct Snapshot: Decodable {
        var pushes: [Push]
        var stats: Stats
    }

    func pushes() async throws -> Snapshot {
        let response = try await client.execute(HTTPClientRequest(url: "\(url)/sandbox/pushes"), timeout: .seconds(10))
        let body = try await response.body.collect(upTo: 64 << 20)
        return try JSONDecoder().decode(Snapshot.self, from: Data(body.readableBytesView))
    }
}
