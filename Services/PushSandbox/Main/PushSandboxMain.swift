import ArgumentParser
import Foundation
import Logging
import PushSandboxApp

/// herald-push-sandbox: APNs and FCM on this machine, for tests and `make run`.
@main
struct PushSandboxMain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "herald-push-sandbox",
        abstract: "A local stand-in for APNs and FCM: checks what they check, records what it accepted, refuses what a test tells it to.",
        discussion: """
            On its first start it makes, in --dir, an APNs signing key (apns-key.p8), a Google service account \
            (fcm-service-account.json), a CA (ca.pem) and the server certificate it serves; later starts reuse them. \
            gateway.env in the same folder holds herald-gateway's variables for this stand-in.
            """
    )

    @Option(help: "Address to listen on.") var host = "127.0.0.1"
    @Option(help: "TLS port (HTTP/2 and HTTP/1.1); 0 picks a free one.") var port = 9443
    @Option(help: "Folder for the keys, certificates and gateway.env.") var dir = ".herald/push-sandbox"
    @Option(help: "Seconds an FCM access token it issues stays valid.") var accessTokenLifetime = 3599.0
    @Option(help: "Accepted pushes kept for GET /sandbox/pushes (counts go on past it).") var recordLimit = 100_000

    @Flag(help: "Print an APNs provider token signed with the key in --dir, and exit (for h2load and curl).")
    var printProviderToken = false

    func run() async throws {
        if printProviderToken {
            print(try await PushSandbox.providerToken(directory: URL(fileURLWithPath: dir)))
            return
        }
        LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
        var options = PushSandbox.Options(directory: URL(fileURLWithPath: dir))
        options.host = host
        options.port = port
        options.accessTokenLifetime = accessTokenLifetime
        options.recordLimit = recordLimit
        try await PushSandbox(options: options, logger: Logger(label: "herald-push-sandbox")).run()
    }
}
