import Crypto
import Foundation
import HTTPTypes
import HeraldCore
import Hummingbird

/// The console's form reading and its checks against forged requests.
enum ConsoleSecurity {
    /// Why a body is not a usable form: the status to answer with.
    struct FormRefusal: Error { var status: HTTPResponse.Status }

    /// A form body, at most `Limits.httpBodyMaxBytes`.
    static func readForm(_ request: Request) async -> Result<FormData, FormRefusal> {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        guard type.hasPrefix("application/x-www-form-urlencoded") else { return .failure(FormRefusal(status: .unsupportedMediaType)) }
        var request = request
        guard let buffer = try? await request.collectBody(upTo: Limits.httpBodyMaxBytes) else {
            return .failure(FormRefusal(status: .contentTooLarge))
        }
        guard let text = String(validating: buffer.readableBytesView, as: UTF8.self), let form = try? FormData(parsing: text) else {
            return .failure(FormRefusal(status: .badRequest))
        }
        return .success(form)
    }

    /// False when the browser says the form came from another origin (`Origin` or `Sec-Fetch-Site`).
    static func sameOrigin(_ request: Request) -> Bool {
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], !["same-origin", "none"].contains(site) { return false }
        guard let origin = request.headers[HTTPField.Name("Origin")!], origin != "null" else { return true }
        guard let host = request.head.authority else { return false }
        return origin == "http://\(host)" || origin == "https://\(host)"
    }

    /// Compares two secrets in time that does not depend on where they differ.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = Array(a.utf8)
        let y = Array(b.utf8)
        guard x.count == y.count, !x.isEmpty else { return false }
        return zip(x, y).reduce(0) { $0 | ($1.0 ^ $1.1) } == 0
    }

    /// 32 random bytes, URL-safe base64 without padding.
    static func randomToken() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString()
            .replacingOccurrences(of: "+", with: "-").replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// The hash a secret is stored under.
    static func hash(_ secret: String) -> String { Hex.string(SHA256.hash(data: Array(secret.utf8))) }

    /// What an idempotency key must always come with, for the console's own keys.
    static func hash(_ parts: [String]) -> String { hash(parts.joined(separator: "\u{0}")) }
}
