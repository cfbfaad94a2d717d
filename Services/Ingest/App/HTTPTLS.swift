public import HeraldRuntime
import HummingbirdTLS
import NIOSSL

/// HTTPS on ingest's listener: a certificate chain and its private key, read once at start.
public struct HTTPTLS: Sendable {
    /// What the listener serves with: TLS 1.2 or later, the chain and key read from the files.
    let configuration: TLSConfiguration

    /// Reads `HERALD_HTTP_TLS_CERT` (PEM: the server's certificate, then any intermediates) and
    /// `HERALD_HTTP_TLS_KEY` (its PEM private key); nil when neither is set. One without the
    /// other, or a file that cannot be read as PEM, is an error naming the key.
    public init?(environment: EnvironmentReader) throws(ConfigurationError) {
        let certificate = environment.optional("HERALD_HTTP_TLS_CERT")
        let key = environment.optional("HERALD_HTTP_TLS_KEY")
        switch (certificate, key) {
        case (nil, nil): return nil
        case (.some, nil): throw ConfigurationError(key: "HERALD_HTTP_TLS_KEY", problem: "is required with HERALD_HTTP_TLS_CERT")
        case (nil, .some): throw ConfigurationError(key: "HERALD_HTTP_TLS_CERT", problem: "is required with HERALD_HTTP_TLS_KEY")
        case (.some(let certificate), .some(let key)):
            try self.init(certificatePath: certificate, keyPath: key)
        }
    }

    public init(certificatePath: String, keyPath: String) throws(ConfigurationError) {
        let chain: [NIOSSLCertificate]
        do {
            chain = try NIOSSLCertificate.fromPEMFile(certificatePath)
        } catch {
            throw ConfigurationError(
                key: "HERALD_HTTP_TLS_CERT",
                problem: "names a file that cannot be read as PEM certificates: \(certificatePath)"
            )
        }
        guard !chain.isEmpty else {
            throw ConfigurationError(key: "HERALD_HTTP_TLS_CERT", problem: "names a file that holds no certificate: \(certificatePath)")
        }
        let privateKey: NIOSSLPrivateKey
        do {
            privateKey = try NIOSSLPrivateKey(file: keyPath, format: .pem)
        } catch {
            throw ConfigurationError(
                key: "HERALD_HTTP_TLS_KEY",
                problem: "names a file that cannot be read as a PEM private key: \(keyPath)"
            )
        }
        var configuration = TLSConfiguration.makeServerConfiguration(
            certificateChain: chain.map { .certificate($0) },
            privateKey: .privateKey(privateKey)
        )
        configuration.minimumTLSVersion = .tlsv12
        self.configuration = configuration
    }
}
