import Auth
import Foundation
import HeraldRuntime
import Testing

/// `<NAME>_FILE` for the variables that carry secrets, the way container platforms mount them.
@Suite struct SecretFileTests {
    static func file(_ text: String) throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("herald-secret-\(UUID().uuidString)").path
        try text.write(toFile: path, atomically: true, encoding: .utf8)
        return path
    }

    @Test func aSecretIsReadFromItsFileWithoutItsTrailingLineBreak() throws {
        let secret = String(repeating: "s3cr3t-", count: 6)
        let reader = try EnvironmentReader(resolvingFiles: [
            "HERALD_JWT_SECRET_FILE": try Self.file(secret + "\n"),
            "HERALD_AMQP_URL_FILE": try Self.file("amqp://u:p@broker:5672/%2f\r\n"),
            "HERALD_DATABASE_URL_FILE": try Self.file("postgres://h:pw@db/herald"),
            "HERALD_HTTP_PORT": "8081",
        ])
        #expect(reader.optional("HERALD_JWT_SECRET") == secret)
        #expect(reader.optional("HERALD_AMQP_URL") == "amqp://u:p@broker:5672/%2f")
        #expect(reader.optional("HERALD_DATABASE_URL") == "postgres://h:pw@db/herald")
        #expect(reader.optional("HERALD_HTTP_PORT") == "8081")
        #expect(try TokenSettings.fromEnvironment(reader).secret == secret)
    }

    @Test func withoutAFileTheVariableIsUsedAsItIs() throws {
        let reader = try EnvironmentReader(resolvingFiles: ["HERALD_JWT_SECRET": "direct", "HERALD_JWT_SECRET_FILE": ""])
        #expect(reader.optional("HERALD_JWT_SECRET") == "direct")
    }

    @Test func onlySecretsAreReadFromFiles() throws {
        // HERALD_PUSH_CA_FILE is a path the gateway reads itself, not a value in a file.
        let reader = try EnvironmentReader(resolvingFiles: ["HERALD_PUSH_CA_FILE": "/etc/ssl/ca.pem", "HERALD_LOG_LEVEL_FILE": "/x"])
        #expect(reader.optional("HERALD_PUSH_CA_FILE") == "/etc/ssl/ca.pem")
        #expect(reader.optional("HERALD_PUSH_CA") == nil)
        #expect(reader.optional("HERALD_LOG_LEVEL") == nil)
    }

    @Test func aMissingEmptyOrDoubledSecretIsOneLineNamingTheKeyAndNeverTheValue() throws {
        let secretValue = "amqp://u:the-password@broker/%2f"
        let cases: [([String: String], String)] = [
            (["HERALD_AMQP_URL_FILE": "/nonexistent/amqp-url"], "HERALD_AMQP_URL_FILE names a file that cannot be read"),
            (["HERALD_JWT_SECRET_FILE": try Self.file("\n")], "HERALD_JWT_SECRET_FILE names an empty file"),
            (
                ["HERALD_AMQP_URL_FILE": try Self.file(secretValue), "HERALD_AMQP_URL": secretValue],
                "HERALD_AMQP_URL_FILE and HERALD_AMQP_URL are both set"
            ),
        ]
        for (values, message) in cases {
            do {
                _ = try EnvironmentReader(resolvingFiles: values)
                Issue.record("accepted \(values.keys.sorted())")
            } catch {
                #expect(error.description.contains(message), "\(error)")
                #expect(!error.description.contains("the-password"))
                #expect(!error.description.contains("\n"))
            }
        }
    }
}
