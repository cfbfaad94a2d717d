public import Crypto
public import CryptoExtras
public import Foundation
import SwiftASN1
import X509

/// What the stand-in and a gateway pointed at it share: the APNs signing key (a `.p8`, with its
/// key id and team id), a Google service account for FCM, and the TLS certificate the stand-in
/// serves with its CA. Made on the first start in the sandbox's folder and read back from it on
/// later starts, so a gateway configured once keeps working when the stand-in restarts.
public struct SandboxCredentials: Sendable {
    public let directory: URL
    public let apnsKey: P256.Signing.PrivateKey
    public let apnsKeyId: String
    public let apnsTeamId: String
    public let apnsTopic: String
    public let fcmKey: _RSA.Signing.PrivateKey
    public let fcmKeyId: String
    public let fcmProjectId: String
    public let fcmClientEmail: String
    public let serverCertificatePEM: String
    public let serverKeyPEM: String

    /// Reads the folder's key material, making what is missing.
    public static func loadOrCreate(in directory: URL) throws -> SandboxCredentials {
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let apnsKey = try Self.p256Key(directory, "apns-key.p8")
        let fcmKey = try Self.keyFile(
            directory,
            "fcm-key.pem",
            parse: { try _RSA.Signing.PrivateKey(pemRepresentation: $0) },
            make: { try _RSA.Signing.PrivateKey(keySize: .bits2048) }
        )
        let caKey = try Self.p256Key(directory, "ca-key.pem")
        let serverKey = try Self.p256Key(directory, "server-key.pem")
        let caFile = directory.appendingPathComponent("ca.pem")
        let serverFile = directory.appendingPathComponent("server.pem")
        if !FileManager.default.fileExists(atPath: caFile.path) || !FileManager.default.fileExists(atPath: serverFile.path) {
            let (ca, server) = try Self.certificates(caKey: caKey, serverKey: serverKey)
            try Self.write(ca, to: caFile)
            try Self.write(server, to: serverFile)
        }
        // Key ids are fixed by the keys, so a restart keeps them.
        let apnsKeyId = String(Self.fingerprint(apnsKey.publicKey.derRepresentation).prefix(10)).uppercased()
        let fcmKeyId = Self.fingerprint(fcmKey.publicKey.derRepresentation)
        return SandboxCredentials(
            directory: directory,
            apnsKey: apnsKey,
            apnsKeyId: apnsKeyId,
            apnsTeamId: "HERALDTEAM",
            apnsTopic: "org.herald.sandbox",
            fcmKey: fcmKey,
            fcmKeyId: fcmKeyId,
            fcmProjectId: "herald-sandbox",
            fcmClientEmail: "herald-gateway@herald-sandbox.iam.gserviceaccount.com",
            serverCertificatePEM: try String(contentsOf: serverFile, encoding: .utf8),
            serverKeyPEM: serverKey.pemRepresentation
        )
    }

    public var apnsKeyPath: URL { directory.appendingPathComponent("apns-key.p8") }
    public var serviceAccountPath: URL { directory.appendingPathComponent("fcm-service-account.json") }
    public var caPath: URL { directory.appendingPathComponent("ca.pem") }
    public var environmentPath: URL { directory.appendingPathComponent("gateway.env") }

    /// Writes the service-account JSON (its `token_uri` names this run's port) and `gateway.env`,
    /// the gateway's variables for this stand-in, one `NAME=value` per line.
    public func writeGatewayFiles(baseURL: String) throws {
        let account: [String: String] = [
            "type": "service_account",
            "project_id": fcmProjectId,
            "private_key_id": fcmKeyId,
            "private_key": fcmKey.pkcs8PEMRepresentation,
            "client_email": fcmClientEmail,
            "client_id": "100000000000000000000",
            "token_uri": baseURL + "/token",
        ]
        let json = try JSONSerialization.data(withJSONObject: account, options: [.prettyPrinted, .sortedKeys])
        try json.write(to: serviceAccountPath, options: .atomic)
        let lines = [
            "HERALD_APNS_URL=\(baseURL)",
            "HERALD_APNS_KEY_PATH=\(apnsKeyPath.path)",
            "HERALD_APNS_KEY_ID=\(apnsKeyId)",
            "HERALD_APNS_TEAM_ID=\(apnsTeamId)",
            "HERALD_APNS_TOPIC=\(apnsTopic)",
            "HERALD_FCM_URL=\(baseURL)",
            "HERALD_FCM_CREDENTIALS_PATH=\(serviceAccountPath.path)",
            "HERALD_PUSH_CA_FILE=\(caPath.path)",
        ]
        try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: environmentPath, options: .atomic)
    }

    /// The variables a stand-in started with `--dir directory` wrote to its `gateway.env`.
    public static func gatewayEnvironment(in directory: URL) throws -> [String: String] {
        let text = try String(contentsOf: directory.appendingPathComponent("gateway.env"), encoding: .utf8)
        return Dictionary(
            text.split(separator: "\n").compactMap { line -> (String, String)? in
                let parts = line.split(separator: "=", maxSplits: 1)
                return parts.count == 2 ? (String(parts[0]), String(parts[1])) : nil
            },
            uniquingKeysWith: { $1 }
        )
    }

    // MARK: Making them

    private static func p256Key(_ directory: URL, _ name: String) throws -> P256.Signing.PrivateKey {
        try keyFile(directory, name, parse: { try P256.Signing.PrivateKey(pemRepresentation: $0) }, make: { P256.Signing.PrivateKey() })
    }

    /// The key in the folder's file `name`, or a new one written there (PKCS#8 PEM, mode 600).
    private static func keyFile<Key: PEMKey>(
        _ directory: URL,
        _ name: String,
        parse: (String) throws -> Key,
        make: () throws -> Key
    ) throws -> Key {
        let file = directory.appendingPathComponent(name)
        if let pem = try? String(contentsOf: file, encoding: .utf8) { return try parse(pem) }
        let key = try make()
        try write(key.pkcs8PEM, to: file)
        return key
    }

    private static func write(_ text: String, to file: URL) throws {
        try Data(text.utf8).write(to: file, options: .atomic)
        try FileManager.default.setAttributes([.posixPermissions: 0o600], ofItemAtPath: file.path)
    }

    private static func fingerprint(_ der: Data) -> String {
        SHA256.hash(data: der).prefix(10).map { String(format: "%02x", $0) }.joined()
    }

    /// A CA of its own and a server certificate it signs, for `localhost` and 127.0.0.1.
    private static func certificates(
        caKey: P256.Signing.PrivateKey,
        serverKey: P256.Signing.PrivateKey
    ) throws -> (ca: String, server: String) {
        let now = Date()
        let caName = try DistinguishedName { CommonName("herald-push-sandbox CA") }
        let issuer = Certificate.PrivateKey(caKey)
        let ca = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: issuer.publicKey,
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(5 * 365 * 86_400),
            issuer: caName,
            subject: caName,
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.isCertificateAuthority(maxPathLength: 0))
                Critical(KeyUsage(keyCertSign: true, cRLSign: true))
            },
            issuerPrivateKey: issuer
        )
        let server = try Certificate(
            version: .v3,
            serialNumber: Certificate.SerialNumber(),
            publicKey: Certificate.PrivateKey(serverKey).publicKey,
            notValidBefore: now.addingTimeInterval(-3600),
            notValidAfter: now.addingTimeInterval(5 * 365 * 86_400),
            issuer: caName,
            subject: try DistinguishedName { CommonName("localhost") },
            signatureAlgorithm: .ecdsaWithSHA256,
            extensions: try Certificate.Extensions {
                Critical(BasicConstraints.notCertificateAuthority)
                Critical(KeyUsage(digitalSignature: true))
                try ExtendedKeyUsage([.serverAuth])
                SubjectAlternativeNames([.dnsName("localhost"), .ipAddress(ASN1OctetString(contentBytes: [127, 0, 0, 1]))])
            },
            issuerPrivateKey: issuer
        )
        return (try ca.serializeAsPEM().pemString, try server.serializeAsPEM().pemString)
    }
}

/// A private key written as PKCS#8 PEM (what a `.p8` file and a service account's `private_key` hold).
protocol PEMKey { var pkcs8PEM: String { get } }

extension P256.Signing.PrivateKey: PEMKey {
    var pkcs8PEM: String { pemRepresentation }
}

extension _RSA.Signing.PrivateKey: PEMKey {
    var pkcs8PEM: String { pkcs8PEMRepresentation }
}
