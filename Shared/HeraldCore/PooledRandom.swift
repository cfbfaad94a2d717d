import CSystemCalls
import Glibc
import Synchronization

/// Random numbers from the kernel's generator, drawn 4 KiB at a time: for ids that must be unique
/// and unguessable enough to not collide (notification ids, request ids), made once or more per
/// request.
///
/// `SystemRandomNumberGenerator` asks the kernel for every number (a `getrandom` system call for
/// each 8 bytes), and Foundation's `UUID()` opens, reads and closes `/dev/urandom` each time: on
/// ingest's send path that was 13 system calls of 30 per request. Here the bytes are the kernel's
/// all the same, handed out from a buffer under a lock.
///
/// Not for secrets (session keys, CSRF tokens): those still come straight from
/// `SystemRandomNumberGenerator`, so no copy of them lingers in a buffer.
public struct PooledRandom: RandomNumberGenerator, Sendable {
    public init() {}

    public mutating func next() -> UInt64 { Self.pool.withLock { $0.next() } }

    private static let pool = Mutex(Pool())

    private struct Pool: ~Copyable {
        static let words = 512
        let buffer = UnsafeMutableBufferPointer<UInt64>.allocate(capacity: Pool.words)
        var used = Pool.words

        mutating func next() -> UInt64 {
            if used == Self.words { refill() }
            defer { used += 1 }
            return buffer[used]
        }

        private mutating func refill() {
            let bytes = UnsafeMutableRawBufferPointer(buffer)
            var filled = 0
            while filled < bytes.count {
                let got = herald_getrandom(bytes.baseAddress! + filled, bytes.count - filled)
                if got > 0 {
                    filled += got
                } else if errno != EINTR {
                    // The kernel's generator is always there on Linux 3.17 and later; should it
                    // ever refuse, the standard library's generator asks it (or traps) its own way.
                    var system = SystemRandomNumberGenerator()
                    for index in buffer.indices { buffer[index] = system.next() }
                    break
                }
            }
            used = 0
        }

        deinit { buffer.deallocate() }
    }
}

/// Version 4 UUIDs (RFC 9562) in lowercase, from `PooledRandom`.
public enum RandomUUID {
    public static func make() -> String {
        var generator = PooledRandom()
        let high = generator.next()
        let low = generator.next()
        var bytes = [UInt8](repeating: 0, count: 16)
        for index in 0..<8 {
            bytes[index] = UInt8(truncatingIfNeeded: high >> (8 * (7 - index)))
            bytes[8 + index] = UInt8(truncatingIfNeeded: low >> (8 * (7 - index)))
        }
        bytes[6] = (bytes[6] & 0x0F) | 0x40  // version 4
        bytes[8] = (bytes[8] & 0x3F) | 0x80  // RFC 9562 variant
        return UUIDFormat.string(from: bytes)
    }
}
