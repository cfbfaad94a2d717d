import Foundation
import TestSupport
import Testing

extension BrokerTests {
    @Suite struct ShutdownTests {
        /// SIGTERM to a dispatcher and then to ingest while herald-load sends: both exit cleanly
        /// within the shutdown timeout, ingest reports unready before it stops listening, and every
        /// accepted send's envelopes still arrive once replacements start.
        @Test func sigtermUnderLoadLosesNothingAccepted() async throws {
            try await Broker.purgeAll()
            let stack = try LocalStack(extra: ["HERALD_SHUTDOWN_DELAY": "3", "HERALD_SHUTDOWN_TIMEOUT": "20"])
            defer { stack.stop() }
            let shape = ["--tenants", "6", "--users", "40", "--groups", "6", "--tenant-prefix", "sigterm-"]
            #expect(try await stack.tool("herald-load", ["seed"] + shape).status == 0)
            let firstIngest = try await stack.startIngest()
            let firstDispatcher = try stack.startDispatcher()

            let load = try stack.launch(
                "herald-load",
                ["run", "--rate", "50", "--duration", "12", "--group-share", "0.2", "--settle", "90", "--json"] + shape
            )
            #expect(
                await eventually(timeout: .seconds(30)) {
                    firstDispatcher.log.components(separatedBy: "notification dispatched").count > 20
                }
            )

            // The dispatcher: stops taking deliveries, finishes what it holds, exits 0.
            firstDispatcher.sigterm()
            #expect(await firstDispatcher.exitStatus(within: .seconds(30)) == 0)
            #expect(firstDispatcher.log.contains("dispatcher draining"))
            #expect(firstDispatcher.log.contains("dispatcher stopped"))
            try stack.startDispatcher()

            // Ingest: unready while it still runs, then gone; a new one takes over on the same port.
            firstIngest.sigterm()
            let unreadyWhileRunning = await eventually(timeout: .seconds(3)) {
                await stack.readiness() == 503 && firstIngest.process.isRunning
            }
            #expect(unreadyWhileRunning, "readiness turns unhealthy before the listener closes")
            #expect(await firstIngest.exitStatus(within: .seconds(30)) == 0)
            try await stack.startIngest()

            let (status, output) = await load.finish()
            let outcome = try LoadRunOutcome(output)
            #expect(outcome.accepted > 100)
            #expect(outcome.envelopes.lost == 0, "every 202 got its envelopes")
            #expect(outcome.envelopes.unexpected == 0)
            #expect(status == 0)
            reliabilityRow(
                "SIGTERM to the dispatcher, then to ingest (each replaced)",
                load: "herald-load, 50 sends/s, 20% group sends, no retries",
                accepted: outcome.accepted,
                lost: outcome.envelopes.lost,
                duplicates: outcome.envelopes.duplicates,
                test: "sigtermUnderLoadLosesNothingAccepted"
            )
        }
    }
}
