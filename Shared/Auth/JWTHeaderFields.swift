public import Foundation

/// The `alg` and `kid` of a compact JWT's header, read without verifying anything: what decides
/// which key may verify it (and refuses a token made for another algorithm) before any crypto.
public struct JWTHeaderFields: Sendable, Equatable, Decodable {
    public var alg: String?
    public var kid: String?

    /// Nil when `token` is not three dot-separated parts whose first is base64url JSON.
    public init?(token: some StringProtocol) {
        let parts = token.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 3, let data = Self.base64URLDecode(parts[0]),
            let fields = try? JSONDecoder().decode(JWTHeaderFields.self, from: data)
        else { return nil }
        self = fields
    }

    static func base64URLDecode(_ part: some StringProtocol) -> Data? {
        var text = part.replacingOccurrences(of: "-", with: "+").replacingOccurrences(of: "_", with: "/")
        while text.count % 4 != 0 { text += "=" }
        return Data(base64Encoded: text)
    }
}
