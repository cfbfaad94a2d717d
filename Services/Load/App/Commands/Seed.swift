import ArgumentParser
import Foundation
import HeraldCommandLine
import HeraldCore
import HeraldRuntime
import Store

/// The directory shape, shared by `seed` and `run` so both see the same directory.
struct ShapeOptions: ParsableArguments {
    @Option(help: "Seed of the generator: the same seed and sizes give the same directory.") var seed: UInt64 = 42
    @Option(help: "Tenants.") var tenants = 200
    @Option(help: "Users per tenant (each has 1 to 3 devices).") var users = 100
    @Option(help: "Groups per tenant (overlapping, some nested, one cycle).") var groups = 12
    @Option(help: "Prefix of the tenant ids, so several shapes can share a database.") var tenantPrefix = "load-"

    var shape: DirectoryShape {
        DirectoryShape(seed: seed, tenants: tenants, usersPerTenant: users, groupsPerTenant: groups, tenantPrefix: tenantPrefix)
    }

    func validate() throws {
        guard tenants >= 1, users >= 1, groups >= 1 else { throw ValidationError("--tenants, --users and --groups must be at least 1") }
    }
}

/// `herald-load seed`: imports a synthetic directory through the same importer as `heraldctl directory import`.
/// The seeded tenants are replaced, not merged: an earlier seed of another shape or generator
/// would otherwise leave devices behind that `run` does not expect.
struct Seed: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Import a reproducible synthetic directory (tenants, users, devices, nested groups, roles, principals), replacing the directory of the tenants it seeds."
    )
    @OptionGroup var shape: ShapeOptions
    @OptionGroup var database: DatabaseOptions
    @Option(help: "Also write the directory as an import file here.") var write: String?
    @Flag(help: "Print one JSON object instead of text.") var json = false

    func run() async throws {
        let started = ContinuousClock.now
        let directory = SyntheticDirectory(shape: shape.shape)
        if let write {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys]
            try encoder.encode(directory.file).write(to: URL(fileURLWithPath: write))
        }
        try await database.open().writer.importFile(directory.file, replacingTenants: true)
        let summary = directory.summary
        let planner = SendPlanner(directory: directory, mix: SendMix(), seed: shape.seed)
        let rows: [(String, String)] = [
            ("tenants", "\(shape.tenants)"), ("users", "\(summary.users)"), ("devices", "\(summary.devices)"),
            ("eligible_devices", "\(summary.eligible)"), ("groups", "\(summary.groups)"),
            ("group_sends_per_hour", "\(planner.capacity.groupSends)"), ("device_sends_per_hour", "\(planner.capacity.deviceSends)"),
            ("seconds", String(format: "%.1f", (ContinuousClock.now - started).inSeconds)),
        ]
        printReport("seeded \(shape.tenantPrefix)* (seed \(shape.seed))", rows, json: json)
    }
}
