import AMQP
import ArgumentParser
import Auth
import Foundation
import HeraldRuntime
import NIOPosix

/// `herald-load run`: drives ingest, consumes the push queues, and matches every envelope to its send.
struct Run: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send through ingest at a fixed rate or concurrency and account for every envelope.",
        discussion: """
            herald-load takes the envelopes off herald.push.ios and herald.push.android itself (it
            stands in for the push gateways), so do not point it at a deployment whose gateways are
            running. It empties both queues before it starts unless --keep-queues is given.
            Exit status 1 when an envelope was lost, unexpected, duplicated (unless --allow-duplicates)
            or misrouted, or when nothing was accepted.
            """
    )
    @OptionGroup var shape: ShapeOptions
    @Option(
        help: """
            Ingest's base URL, or several separated by commas: connections are spread over them, and a send that gets \
            no answer is retried on the next (default: http://127.0.0.1:$HERALD_HTTP_PORT).
            """
    ) var url: String?
    @Option(help: "Open model: sends per second, kept whatever the responses do.") var rate: Double?
    @Option(help: "Closed model: sends in flight at once (instead of --rate).") var concurrency: Int?
    @Option(help: "Seconds to send for.") var duration: Double?
    @Option(help: "Sends to make (instead of, or as well as, --duration).") var count: Int?
    @Option(help: "HTTP connections of the open model.") var connections = 32
    @Option(help: "Share of sends that go to groups (0 to 1).") var groupShare = 0.1
    @Option(help: "Most groups one group send targets.") var maxGroupsPerSend = 3
    @Flag(help: "Go on past each tenant's and device's hourly throttle budget instead of ending the run.") var allowThrottled = false
    @Option(help: "Seconds to wait for missing envelopes after sending stops.") var settle = 30.0
    @Flag(help: "Do not empty the push queues first.") var keepQueues = false
    @Option(help: "Retry a send that got no answer, a 503 or 'in progress' this many times, with an Idempotency-Key.") var retries = 0
    @Flag(help: "Report duplicate envelopes (same id, at-least-once) without failing the run.") var allowDuplicates = false
    @OptionGroup var common: CommonOptions

    func validate() throws {
        if rate != nil, concurrency != nil { throw ValidationError("give --rate or --concurrency, not both") }
        if let rate, rate <= 0 { throw ValidationError("--rate must be positive") }
        if let concurrency, concurrency < 1 { throw ValidationError("--concurrency must be at least 1") }
        guard (0...1).contains(groupShare) else { throw ValidationError("--group-share must be between 0 and 1") }
        guard (1...25).contains(maxGroupsPerSend) else { throw ValidationError("--max-groups-per-send must be 1 to 25") }
    }

    func run() async throws {
        let environment = try EnvironmentReader.process()
        let bases = (url ?? "http://127.0.0.1:" + environment.string("HERALD_HTTP_PORT", default: "8080"))
            .split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        let targets = try bases.map { base in
            guard let components = URLComponents(string: base), components.scheme == "http", let host = components.host, !host.isEmpty
            else {
                throw ValidationError("--url must look like http://HOST:PORT[,http://HOST:PORT…] (got \(base))")
            }
            return LoadSettings.Target(host: host, port: components.port ?? 80)
        }
        guard !targets.isEmpty else { throw ValidationError("--url names no ingest host") }
        let amqp = try common.amqp()
        let tokenSettings = try TokenSettings.fromEnvironment(environment)

        let directory = SyntheticDirectory(shape: shape.shape)
        let mix = SendMix(groupShare: groupShare, groupsPerSend: 1...maxGroupsPerSend, respectThrottles: !allowThrottled)
        let planner = SendPlanner(directory: directory, mix: mix, seed: shape.seed)
        let service = await TokenService(settings: tokenSettings)
        var tokens: [String: String] = [:]
        for tenant in directory.tenants {
            tokens[tenant.id] = try await service.issue(tenantId: tenant.id, principalId: tenant.principal, ttl: 6 * 3600)
        }

        if !keepQueues {
            let admin = AMQPAdmin(configuration: amqp, topology: Topology())
            var purged = 0
            for queue in [Topology.pushIOS, Topology.pushAndroid] { purged += try await admin.purge(queue: queue) }
            if purged > 0 { log("emptied \(purged) envelopes left on the push queues from before") }
        }
        let collector = try EnvelopeCollector(configuration: amqp, logger: silentLogger())
        let settings = LoadSettings(
            targets: targets,
            model: concurrency.map { .concurrency($0) } ?? .rate(rate ?? 200),
            duration: duration.map { .milliseconds(Int($0 * 1000)) } ?? (count == nil ? .seconds(10) : nil),
            count: count,
            connections: connections,
            settle: .milliseconds(Int(settle * 1000)),
            retries: retries
        )
        let run = LoadRun(settings: settings, planner: planner, tokens: tokens, collector: collector, group: .singleton)
        let terminal = isatty(STDERR_FILENO) == 1
        var report = try await run.run { p in
            let line =
                "\(Int(p.elapsed.rounded()))s  \(p.settling ? "settling, sent" : "sent") \(p.sent)  accepted \(p.accepted)"
                + "  errors \(p.errors)  envelopes \(p.envelopes)  backlog \(p.backlog)"
            if terminal {
                FileHandle.standardError.write(Data(("\r\u{1B}[K" + line).utf8))
            } else if Int(p.elapsed.rounded()) % 5 == 0 {
                log(line)
            }
        }
        if terminal { FileHandle.standardError.write(Data("\r\u{1B}[K".utf8)) }
        report.duplicatesAllowed = allowDuplicates
        print(common.json ? try report.json() : report.table)
        if !report.passed { throw ExitCode(1) }
    }

    private func log(_ line: String) {
        FileHandle.standardError.write(Data((line + "\n").utf8))
    }
}
