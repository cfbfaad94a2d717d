import AsyncHTTPClient
public import Auth
import Foundation
public import HeraldRuntime
public import Logging
import NIOCore

/// The bearer-token verifier `verification` asks for, with a JWKS read once at start.
///
/// A JWKS file that cannot be read or holds no usable key stops ingest (exit 78, one line naming
/// `HERALD_JWKS_PATH`): nothing could ever be verified. A JWKS URL that does not answer at start
/// does not: ingest starts, says so, refuses sends with 503 `identity_provider_unavailable`, and
/// tries again at a token 5 s later (then 10, 20, 40, 60 s apart while it keeps failing).
public func makeTokenVerifier(_ verification: TokenVerification, logger: Logger) async throws -> any BearerTokenVerifier {
    switch verification {
    case .sharedSecret(let settings):
        return await TokenService(settings: settings)
    case .jwks(let settings):
        let fetch = JWKSFetch.make(settings.source)
        do {
            let document = try await fetch()
            let keys = try await JWKSKeySet(json: document)
            logger.info(
                "identity provider keys loaded",
                metadata: ["jwks.source": "\(settings.source)", "jwks.kids": "\(keys.keyIds.joined(separator: ","))"]
            )
            return JWKSVerifier(settings: settings, initial: (keys, document), logger: logger, fetch: fetch)
        } catch {
            if case .file(let path) = settings.source {
                throw ConfigurationError(key: "HERALD_JWKS_PATH", problem: "names \(path): \(JWKSFetch.reason(error))")
            }
            logger.warning(
                "identity provider keys not loaded at start; sends are refused with 503 until HERALD_JWKS_URL answers",
                metadata: ["jwks.source": "\(settings.source)", "error": "\(JWKSFetch.reason(error))"]
            )
            return JWKSVerifier(settings: settings, initial: nil, failedAt: Date(), logger: logger, fetch: fetch)
        }
    }
}

/// Reading a JWKS from a file or an HTTPS URL.
enum JWKSFetch {
    /// The largest JWKS read: real ones are a few kilobytes.
    static let maximumBytes = 1 << 20
    static let timeout = TimeAmount.seconds(5)

    static func make(_ source: JWKSSettings.Source) -> JWKSVerifier.Fetch {
        switch source {
        case .file(let path):
            return {
                do {
                    return try Data(contentsOf: URL(fileURLWithPath: path))
                } catch {
                    throw JWKSError("cannot be read")
                }
            }
        case .url(let url):
            return { try await get(url) }
        }
    }

    static func get(_ url: String) async throws -> Data {
        let response: HTTPClientResponse
        do {
            response = try await HTTPClient.shared.execute(HTTPClientRequest(url: url), timeout: timeout)
        } catch {
            throw JWKSError("did not answer: \(error)")
        }
        guard response.status == .ok else {
            throw JWKSError("answered HTTP \(response.status.code)")
        }
        do {
            return Data(buffer: try await response.body.collect(upTo: maximumBytes))
        } catch {
            throw JWKSError("sent no complete body of at most \(maximumBytes) bytes")
        }
    }

    static func reason(_ error: any Error) -> String {
        (error as? JWKSError).map { "the JWKS \($0)" } ?? "\(error)"
    }
}
