import HTTPTypes
import HeraldCore
package import Hummingbird

/// The id every ingest answer carries in `X-Request-Id` and every log line of its request.
package enum RequestID {
    /// The caller's `X-Request-Id` when it is sane (1–64 of `A-Z a-z 0-9 - _ .`), else a new one.
    package static func of(_ request: Request) -> String {
        if let given = request.headers[.requestId], (1...64).contains(given.count),
            given.utf8.allSatisfy({ byte in
                (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A)
                    || byte == 0x2D || byte == 0x5F || byte == 0x2E
            })
        {
            return given
        }
        return RandomUUID.make()
    }
}
