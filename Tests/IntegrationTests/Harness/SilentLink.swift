import Foundation
import Synchronization
import TestSupport

/// A TCP relay on a loopback port to another one, whose link can go silent: once `silence()` is
/// called it forwards nothing in either direction but keeps every socket open, as a pulled cable
/// or a dropped route looks to both ends (no FIN, no RST, just no more bytes).
final class SilentLink: Sendable {
    /// The port to connect to instead of the target's.
    let port: Int
    private let listener: Int32
    private let target: Int
    private let silent = Atomic<Bool>(false)
    private let stopped = Atomic<Bool>(false)
    /// Connections being relayed now.
    private let open = Atomic<Int>(0)

    init(to target: Int) throws {
        self.target = target
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        self.listener = listener
        var address = Self.loopback(port: 0)
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard listener >= 0, bound == 0, listen(listener, 16) == 0 else { throw TestSetupError("cannot listen on loopback") }
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &length) }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        let thread = Thread { [self] in acceptLoop() }
        thread.name = "silent-link-accept"
        thread.start()
    }

    /// From now on nothing more is forwarded; the sockets stay open.
    func silence() { silent.store(true, ordering: .relaxed) }

    /// Closes the listener and every relayed connection (within 0.1 s): a node that went away.
    func stop() { stopped.store(true, ordering: .relaxed) }

    /// How many connections it relays now.
    var connections: Int { open.load(ordering: .relaxed) }

    private func acceptLoop() {
        defer { close(listener) }
        while !stopped.load(ordering: .relaxed) {
            guard Self.readable(listener, timeoutMillis: 100) else { continue }
            let client = accept(listener, nil, nil)
            guard client >= 0 else { continue }
            let server = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = Self.loopback(port: target)
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(server, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else {
                close(client)
                close(server)
                continue
            }
            let thread = Thread { [self] in relay(client, server) }
            thread.name = "silent-link-relay"
            thread.start()
        }
    }

    private func relay(_ a: Int32, _ b: Int32) {
        open.add(1, ordering: .relaxed)
        defer {
            open.subtract(1, ordering: .relaxed)
            close(a)
            close(b)
        }
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !stopped.load(ordering: .relaxed) {
            if silent.load(ordering: .relaxed) {
                usleep(100_000)
                continue
            }
            var fds = [pollfd(fd: a, events: Int16(POLLIN), revents: 0), pollfd(fd: b, events: Int16(POLLIN), revents: 0)]
            guard poll(&fds, 2, 100) > 0 else { continue }
            for (from, to) in [(0, b), (1, a)] where fds[from].revents != 0 {
                guard !silent.load(ordering: .relaxed) else { break }
                let count = read(fds[from].fd, &buffer, buffer.count)
                guard count > 0 else { return }
                var written = 0
                while written < count {
                    let n = buffer.withUnsafeBytes { write(to, $0.baseAddress! + written, count - written) }
                    guard n > 0 else { return }
                    written += n
                }
            }
        }
    }

    private static func readable(_ fd: Int32, timeoutMillis: Int32) -> Bool {
        var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0)]
        return poll(&fds, 1, timeoutMillis) > 0
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
