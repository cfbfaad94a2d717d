import ArgumentParser
import Auth
import Foundation
import HeraldRuntime

/// `herald-load wrk-script`: a Lua script for `wrk` that posts device sends of a seeded directory,
/// so that ingest alone can be driven by a load generator far cheaper than herald-load itself.
struct WrkScript: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "wrk-script",
        abstract: "Write a wrk Lua script that posts device sends to ingest, for a seeded directory.",
        discussion: """
            Seed the same shape first (herald-load seed). Tokens are signed with $HERALD_JWT_SECRET and
            last six hours. Every send goes to an eligible device; nothing here respects the dispatcher's
            throttles, so drive ingest alone with it (or allow for throttled sends).
            Example: herald-load wrk-script --tenants 300 > sends.lua; wrk -c 64 -t 2 -d 20s -s sends.lua http://127.0.0.1:8080
            """
    )
    @OptionGroup var shape: ShapeOptions
    @Option(help: "Distinct sends in the script; each wrk thread cycles through them.") var sends = 20_000

    func run() async throws {
        let directory = SyntheticDirectory(shape: shape.shape)
        let service = await TokenService(settings: try TokenSettings.fromEnvironment(EnvironmentReader.process()))
        let tenants = directory.tenants.filter { !$0.eligibleDeviceIds.isEmpty }
        guard !tenants.isEmpty else { throw ValidationError("the shape has no eligible device") }
        var script = "-- herald-load wrk-script: \(sends) device sends over \(tenants.count) tenants\nlocal tokens = {\n"
        for tenant in tenants {
            let token = try await service.issue(tenantId: tenant.id, principalId: tenant.principal, ttl: 6 * 3600)
            script += "  \"Bearer \(token)\",\n"
        }
        script += "}\nlocal sends = {\n"
        var random = SplitMix64(seed: shape.seed)
        for _ in 0..<sends {
            let index = Int(random.next(below: UInt64(tenants.count)))
            let devices = tenants[index].eligibleDeviceIds
            let device = devices[Int(random.next(below: UInt64(devices.count)))]
            let path = "/v1/devices/" + (device.addingPercentEncoding(withAllowedCharacters: .urlPathAllowed.subtracting(["/"])) ?? device)
            script += "  {\(index + 1), \"\(path)/notifications\"},\n"
        }
        script += """
            }
            local body = '{"title":"Load test","body":"A device send from wrk, to measure ingest alone."}'
            local n = 0
            request = function()
              n = n + 1
              local send = sends[(n % #sends) + 1]
              return wrk.format("POST", send[2], {["Authorization"] = tokens[send[1]], ["Content-Type"] = "application/json"}, body)
            end

            """
        print(script, terminator: "")
    }
}
