import AMQP
import DispatcherApp
import Foundation
import HeraldCore
import LoadApp
import Logging
import SQLiteStore
import ServiceLifecycle
import Store
import Synchronization
import TestSupport
import Testing

/// A log handler that keeps every message, so a test can read what a service said.
struct RecordingLogHandler: LogHandler {
    final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        func append(_ line: String) { lines.withLock { $0.append(line) } }
        var all: [String] { lines.withLock { $0 } }
        func count(_ text: String) -> Int { all.filter { $0.contains(text) }.count }
    }

    let store: Lines
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        store.append("\(event.level) \(event.message)")
    }

    /// A logger whose messages land in `store`.
    static func logger(_ store: Lines) -> Logger {
        Logger(label: "recorded") { _ in RecordingLogHandler(store: store) }
    }
}
