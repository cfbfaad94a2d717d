import AMQP
import Foundation
import GRDB
import HeraldCore
import LoadApp
import SQLiteStore
import Store
import TestSupport
import Testing

/// The fields of `herald-load run --json` the fault tests read.
struct LoadRunOutcome: Decodable {
    struct Envelopes: Decodable { var expected, received, lost, unexpected, duplicates, publishedAgain, wrongQueue: Int }
    var sends: Int
    var accepted: Int
    var retries: Int
    var errors: [String: Int]
    var envelopes: Envelopes
    var incompleteByStatus: [String: Int]
    var queuesAtEnd: [String: Int]?
    var longestRefusalSeconds: Double
    var refusals: Int

    init(_ output: String) throws { self = try JSONDecoder().decode(Self.self, from: Data(output.utf8)) }
}

extension LoadRunOutcome {
    func row(_ fault: String, test: String) {
        reliabilityRow(
            fault,
            load: "herald-load, 40 sends/s, 20% group sends, retries with Idempotency-Key",
            accepted: accepted,
            lost: envelopes.lost,
            duplicates: envelopes.duplicates,
            test: test
        )
    }
}
