import AMQP
import Foundation
import HeraldCore
import HeraldRuntime
import Testing

/// docs/contracts.md against the code: what the document names exists, and what the code relies on is named.
@Suite struct ContractsTests {
    let contracts: String

    init() throws {
        contracts = try text("docs/contracts.md")
    }

    /// The fenced JSON block that follows `heading` in the document.
    func jsonBlock(after heading: String) throws -> String {
        let section = try #require(contracts.range(of: heading))
        let start = try #require(contracts.range(of: "```json\n", range: section.upperBound..<contracts.endIndex))
        let end = try #require(contracts.range(of: "\n```", range: start.upperBound..<contracts.endIndex))
        return String(contracts[start.upperBound..<end.lowerBound])
    }

    @Test func everyConfigurationKeyTheCodeReadsIsDocumented() throws {
        let read = try configurationKeysTheCodeReads()
        #expect(read.count > 15)
        let undocumented = read.filter { !contracts.contains("`\($0)`") }.sorted()
        #expect(undocumented.isEmpty, "read by the code but not in docs/contracts.md")
    }

    @Test func everyDocumentedConfigurationKeyIsRead() throws {
        let read = try configurationKeysTheCodeReads()
        let table = try matches(#"^\| `(HERALD_[A-Z_]+)`"#, in: contracts)
        #expect(!table.isEmpty)
        let composeOnly: Set = ["HERALD_RABBITMQ_USER", "HERALD_RABBITMQ_PASSWORD"]
        let unread = Set(table).subtracting(read).subtracting(composeOnly).sorted()
        #expect(unread.isEmpty, "in docs/contracts.md's table but read by no executable")
    }

    @Test(
        arguments: Topology().allQueues + [
            Topology.pushExchange, Topology.reasonHeader, Topology.deadAtHeader, Topology.deferralsHeader, Topology.pushAttemptsHeader,
        ]
    )
    func everyBrokerNameIsDocumented(_ name: String) {
        let documented =
            contracts.contains("`\(name)`")
            || (name.hasPrefix("herald.requests.delay.") && contracts.contains("`herald.requests.delay.<N>s`"))
            || (name.hasPrefix("herald.push.ios.retry.") && contracts.contains("`herald.push.ios.retry.<N>s`"))
            || (name.hasPrefix("herald.push.android.retry.") && contracts.contains("`herald.push.android.retry.<N>s`"))
        #expect(documented, "\(name) is not in docs/contracts.md")
    }

    @Test(arguments: ServiceExit.allCases)
    func everyExitStatusIsDocumented(_ exit: ServiceExit) {
        #expect(contracts.contains("| `\(exit.rawValue)` |"))
    }

    @Test func everyErrorCodeIsDocumented() throws {
        let source = try text("Services/Ingest/Core/APIError.swift")
        let codes = try matches(#"case \.[a-zA-Z]+(?:\(let [a-z]+\))?: "([a-z_]+)(?:\\\(status\))?""#, in: source)
        #expect(codes.count >= 15)
        for code in codes {
            let documented = contracts.contains("| `\(code)` |") || contracts.contains("| `\(code)<status>` |")
            #expect(documented, "\(code) is not in docs/contracts.md's table of codes")
        }
    }

    @Test(arguments: [Platform.ios, .android])
    func everyEnvelopeFieldIsDocumented(_ platform: Platform) throws {
        let builder = EnvelopeBuilder(
            notificationId: "n-1",
            tenantId: "t-1",
            title: "Title",
            body: "Body",
            createdAt: Date(),
            ttlSeconds: 60
        )
        let envelope = try #require(builder.envelope(userId: "u-1", deviceId: "d-1", platform: platform, pushToken: "token"))
        let documented = try jsonBlock(after: "## Envelope")
        func keys(_ value: Any) -> [String] {
            if let object = value as? [String: Any] { return object.keys + object.values.flatMap(keys) }
            return []
        }
        let fields = keys(try JSONSerialization.jsonObject(with: Data(envelope.json)))
        #expect(fields.count > 15)
        for field in fields { #expect(documented.contains("\"\(field)\""), "\(field) is not in docs/contracts.md's envelope") }
    }

    @Test func theDocumentedDirectoryFileImportsAndNamesEveryKey() throws {
        let documented = try jsonBlock(after: "## Directory import file")
        let file = try DirectoryFile.parse(Data(documented.utf8))
        #expect(file.devices.count == 1)
        #expect(file.groups.first?.members?.count == 3)
        let written = try JSONSerialization.jsonObject(with: JSONEncoder().encode(file))
        func keys(_ value: Any) -> [String] {
            if let object = value as? [String: Any] { return object.keys + object.values.flatMap(keys) }
            if let array = value as? [Any] { return array.flatMap(keys) }
            return []
        }
        for key in Set(keys(written)) { #expect(documented.contains("\"\(key)\""), "\(key) is not in docs/contracts.md's directory file") }
    }

    @Test func everyStatusRecordFieldIsDocumented() throws {
        let status = NotificationStatus(
            id: "n-1",
            tenantId: "t-1",
            kind: .group,
            status: .dispatched,
            acceptedAt: Date(),
            deferredUntil: Date(),
            dispatchedAt: Date(),
            envelopes: ["ios": 1],
            skipped: ["noPushToken": 1],
            reason: "why"
        )
        let object = try #require(try JSONSerialization.jsonObject(with: HeraldJSON.encoder.encode(status)) as? [String: Any])
        let line = try #require(contracts.split(separator: "\n").first { $0.hasPrefix("Status record:") })
        for key in object.keys { #expect(line.contains("\"\(key)\""), "\(key) is not in docs/contracts.md's status record") }
    }

    /// Every repository path the README names in backticks (the rule → file table among them) exists.
    @Test func everyPathTheReadmeNamesExists() throws {
        let readme = try text("README.md")
        let paths = try matches(#"`((?:Services|Shared|Tests|deploy|docs)/[A-Za-z0-9_./+-]*)`"#, in: readme)
        #expect(paths.count > 10)
        for path in paths {
            #expect(FileManager.default.fileExists(atPath: root.appendingPathComponent(path).path), "README names \(path)")
        }
    }

    /// The code names only documents the repository has.
    @Test func noSourceCitesADocumentOutsideTheRepository() throws {
        let sources = try swiftSources() + text("README.md")
        #expect(!sources.contains("DESIGN.md"))
        #expect(!sources.contains("../shared/"))
    }
}
