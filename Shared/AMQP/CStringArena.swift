import CRabbitMQ
import Foundation

/// C copies of Swift strings that live until the arena is released.
///
/// `amqp_cstring_bytes(swiftString)` would keep a pointer to a temporary that is
/// freed as soon as that call returns; every string handed to rabbitmq-c goes
/// through an arena instead, released after the C call that reads it.
final class CStringArena {
    private var pointers: [UnsafeMutablePointer<CChar>] = []

    /// A C string valid until `release()`.
    func cString(_ text: String) -> UnsafeMutablePointer<CChar> {
        let pointer = strdup(text)!
        pointers.append(pointer)
        return pointer
    }

    /// `amqp_bytes_t` of a string, valid until `release()`.
    func bytes(_ text: String) -> amqp_bytes_t {
        amqp_cstring_bytes(cString(text))
    }

    func release() {
        for pointer in pointers { free(pointer) }
        pointers.removeAll()
    }

    deinit { release() }
}

/// Runs `body` with an arena released afterwards.
func withArena<R, E: Error>(_ body: (CStringArena) throws(E) -> R) throws(E) -> R {
    let arena = CStringArena()
    defer { arena.release() }
    return try body(arena)
}
