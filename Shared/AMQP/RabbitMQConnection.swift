import CRabbitMQ
import Foundation

/// One rabbitmq-c connection with one channel (number 1).
///
/// `@unchecked Sendable` only so it can be handed to the thread that owns it:
/// rabbitmq-c connections are not thread-safe, and every method must be called
/// from that one thread. The handle is freed in `deinit`.
final class RabbitMQConnection: @unchecked Sendable {
    static let channel: amqp_channel_t = 1

    private let state: amqp_connection_state_t
    private var open = false
    /// The broker's tag for this connection's consumer, once `consume` ran.
    private var consumerTag: String?
    /// Publishes, acks, rejects and nacks encoded but not written yet (`flush()`), so that many
    /// leave in one write: rabbitmq-c writes each frame with a system call of its own, three for a
    /// publish. Nil over TLS, where rabbitmq-c writes them as they come.
    private let pending: PendingFrames?
    /// The largest frame the broker takes (negotiated at login).
    private var frameMax = 4096

    /// Connects, logs in and opens channel 1; throws on any failure.
    /// - Parameter name: the `connection_name` the broker shows for it (management UI, `rabbitmqctl list_connections`).
    init(configuration: AMQPConfiguration, name: String = ConnectionName.make("admin")) throws(AMQPError) {
        guard let state = amqp_new_connection() else {
            throw AMQPError.library(operation: "amqp_new_connection", status: -1, message: "out of memory")
        }
        self.state = state
        pending = configuration.tls == nil ? PendingFrames() : nil
        let socket = try Self.socket(state, tls: configuration.tls)
        var timeout = timeval(
            tv_sec: Int(configuration.connectTimeout),
            tv_usec: Int((configuration.connectTimeout - configuration.connectTimeout.rounded(.down)) * 1_000_000)
        )
        errno = 0
        let status = amqp_socket_open_noblock(socket, configuration.host, Int32(configuration.port), &timeout)
        if let tls = configuration.tls, let problem = Self.tlsProblem(status, tls: tls, host: configuration.host) {
            throw AMQPError.library(operation: "TLS to \(configuration.host):\(configuration.port)", status: status, message: problem)
        }
        guard status == AMQP_STATUS_OK.rawValue else {
            // rabbitmq-c says only "a socket error occurred"; after its non-blocking connect errno
            // holds EINPROGRESS, which would mislead, so name the likely causes instead.
            let reason =
                status == AMQP_STATUS_HOSTNAME_RESOLUTION_FAILED.rawValue
                ? "the host name does not resolve"
                : errno != 0 && errno != EINPROGRESS
                    ? String(cString: strerror(errno))
                    : "no broker answered (connection refused or timed out)"
            throw AMQPError.library(operation: "connect to \(configuration.host):\(configuration.port)", status: status, message: reason)
        }
        open = true
        let reply = herald_login_plain(
            state,
            configuration.virtualHost,
            131_072,
            Int32(configuration.heartbeatSeconds),
            configuration.username,
            configuration.password,
            name
        )
        try check(reply, "login")
        frameMax = Int(amqp_get_frame_max(state))
        amqp_channel_open(state, Self.channel)
        try check(amqp_get_rpc_reply(state), "channel.open")
    }

    /// A plain TCP socket, or a TLS one that verifies the broker's certificate against the trusted
    /// CAs and its host name against the URL's, presenting a client certificate when one is set.
    private static func socket(_ state: amqp_connection_state_t, tls: AMQPConfiguration.TLS?) throws(AMQPError) -> OpaquePointer {
        guard let tls else {
            guard let socket = amqp_tcp_socket_new(state) else {
                throw AMQPError.library(operation: "amqp_tcp_socket_new", status: -1, message: "cannot create socket")
            }
            return socket
        }
        guard let socket = amqp_ssl_socket_new(state) else {
            throw AMQPError.library(operation: "amqp_ssl_socket_new", status: -1, message: "cannot create a TLS socket")
        }
        let ca = tls.trustedCAs
        let read = amqp_ssl_socket_set_cacert(socket, ca)
        guard read == AMQP_STATUS_OK.rawValue else {
            let key = tls.caFile == nil ? "the system trust store" : "HERALD_AMQP_TLS_CA"
            throw AMQPError.configuration("\(key) (\(ca)) cannot be read as PEM CA certificates")
        }
        if let certificate = tls.certificateFile, let key = tls.keyFile {
            guard amqp_ssl_socket_set_key(socket, certificate, key) == AMQP_STATUS_OK.rawValue else {
                throw AMQPError.configuration(
                    "HERALD_AMQP_TLS_CERT (\(certificate)) and HERALD_AMQP_TLS_KEY (\(key)) cannot be read as a PEM certificate and its key"
                )
            }
        }
        amqp_ssl_socket_set_verify_peer(socket, 1)
        amqp_ssl_socket_set_verify_hostname(socket, 1)
        return socket
    }

    /// What a failed TLS open means, naming the setting to look at; nil when it is not about TLS.
    static func tlsProblem(_ status: Int32, tls: AMQPConfiguration.TLS, host: String) -> String? {
        let trusted = tls.caFile.map { "a CA in HERALD_AMQP_TLS_CA (\($0))" } ?? "a CA of the system trust store (set HERALD_AMQP_TLS_CA)"
        switch status {
        case AMQP_STATUS_SSL_PEER_VERIFY_FAILED.rawValue:
            return "the broker's certificate is not signed by \(trusted)"
        case AMQP_STATUS_SSL_HOSTNAME_VERIFY_FAILED.rawValue:
            return "the broker's certificate is not for the host \(host) that HERALD_AMQP_URL names"
        case AMQP_STATUS_SSL_CONNECTION_FAILED.rawValue, AMQP_STATUS_SSL_ERROR.rawValue:
            return "the TLS handshake failed: the port of HERALD_AMQP_URL may not be a TLS listener, the broker's "
                + "certificate may not be signed by \(trusted), or the broker may require a client certificate (HERALD_AMQP_TLS_CERT)"
        default:
            return nil
        }
    }

    deinit {
        if open {
            amqp_connection_close(state, AMQP_REPLY_SUCCESS)
        }
        amqp_destroy_connection(state)
    }

    /// The socket, for polling.
    var socketDescriptor: Int32 { amqp_get_sockfd(state) }

    /// Whether a frame can be read without touching the socket.
    var hasBufferedInput: Bool { amqp_frames_enqueued(state) != 0 || amqp_data_in_buffer(state) != 0 }

    // MARK: Set-up

    /// Puts the channel in publisher-confirm mode; delivery tags then count from 1.
    func confirmSelect() throws(AMQPError) {
        try flush()
        amqp_confirm_select(state, Self.channel)
        try check(amqp_get_rpc_reply(state), "confirm.select")
    }

    /// Declares a durable exchange.
    func declareExchange(_ name: String, type: String) throws(AMQPError) {
        try flush()
        withArena { a in
            _ = amqp_exchange_declare(state, Self.channel, a.bytes(name), a.bytes(type), 0, 1, 0, 0, amqp_empty_table)
        }
        try check(amqp_get_rpc_reply(state), "exchange.declare \(name)")
    }

    /// Declares a durable queue with arguments.
    func declareQueue(_ name: String, arguments: [(String, AMQPHeaderValue)]) throws(AMQPError) {
        try flush()
        withTable(arguments) { table in
            withArena { a in _ = amqp_queue_declare(state, Self.channel, a.bytes(name), 0, 1, 0, 0, table) }
        }
        try check(amqp_get_rpc_reply(state), "queue.declare \(name)")
    }

    /// Binds a queue to an exchange.
    func bindQueue(_ queue: String, exchange: String, routingKey: String) throws(AMQPError) {
        try flush()
        withArena { a in
            _ = amqp_queue_bind(state, Self.channel, a.bytes(queue), a.bytes(exchange), a.bytes(routingKey), amqp_empty_table)
        }
        try check(amqp_get_rpc_reply(state), "queue.bind \(queue)")
    }

    /// Message and consumer counts of an existing queue (passive declare).
    func queueCounts(_ name: String) throws(AMQPError) -> (messages: Int, consumers: Int) {
        try flush()
        let counts: (Int, Int)? = withArena { a in
            amqp_queue_declare(state, Self.channel, a.bytes(name), 1, 0, 0, 0, amqp_empty_table)
                .map { (Int($0.pointee.message_count), Int($0.pointee.consumer_count)) }
        }
        try check(amqp_get_rpc_reply(state), "queue.declare passive \(name)")
        return counts ?? (0, 0)
    }

    /// Deletes a queue and its messages.
    func deleteQueue(_ name: String) throws(AMQPError) {
        try flush()
        withArena { a in _ = amqp_queue_delete(state, Self.channel, a.bytes(name), 0, 0) }
        try check(amqp_get_rpc_reply(state), "queue.delete \(name)")
    }

    /// Removes every ready message of a queue; returns how many.
    @discardableResult
    func purge(_ name: String) throws(AMQPError) -> Int {
        try flush()
        let count: Int = withArena { a in
            Int(amqp_queue_purge(state, Self.channel, a.bytes(name))?.pointee.message_count ?? 0)
        }
        try check(amqp_get_rpc_reply(state), "queue.purge \(name)")
        return count
    }

    /// Limits unacknowledged deliveries on the channel.
    func qos(prefetch: UInt16) throws(AMQPError) {
        try flush()
        amqp_basic_qos(state, Self.channel, 0, prefetch, 0)
        try check(amqp_get_rpc_reply(state), "basic.qos")
    }

    /// Sets the prefetch again without waiting for the answer (`basic.qos-ok` arrives as an
    /// `.other` event): with the same value it changes nothing, but the broker answers at once.
    func askQos(prefetch: UInt16) throws(AMQPError) {
        try flush()
        let status = herald_basic_qos_nowait(state, Self.channel, prefetch)
        guard status == AMQP_STATUS_OK.rawValue else { throw Self.libraryError("basic.qos", status) }
    }

    /// Starts consuming with manual acknowledgements.
    func consume(queue: String) throws(AMQPError) {
        try flush()
        let tag: String? = withArena { a in
            amqp_basic_consume(state, Self.channel, a.bytes(queue), amqp_empty_bytes, 0, 0, 0, amqp_empty_table)
                .map { Self.string($0.pointee.consumer_tag) }
        }
        try check(amqp_get_rpc_reply(state), "basic.consume \(queue)")
        consumerTag = tag
    }

    /// Asks the broker to stop delivering to this connection's consumer (no reply is awaited).
    /// Deliveries already on their way still arrive.
    func cancelConsumer() throws(AMQPError) {
        guard let consumerTag else { return }
        try flush()
        let status = withArena { a in herald_basic_cancel_nowait(state, Self.channel, a.bytes(consumerTag)) }
        guard status == AMQP_STATUS_OK.rawValue else { throw Self.libraryError("basic.cancel", status) }
        self.consumerTag = nil
    }

    /// Takes one message (unacknowledged) or nil when the queue is empty.
    func get(queue: String, noAck: Bool = false) throws(AMQPError) -> Delivery? {
        try flush()
        let reply = withArena { a in amqp_basic_get(state, Self.channel, a.bytes(queue), noAck ? 1 : 0) }
        try check(reply, "basic.get \(queue)")
        guard reply.reply.id == HERALD_BASIC_GET_OK, let ok = reply.reply.decoded?.assumingMemoryBound(to: amqp_basic_get_ok_t.self) else {
            return nil
        }
        let tag = ok.pointee.delivery_tag
        let redelivered = ok.pointee.redelivered != 0
        let exchange = Self.string(ok.pointee.exchange)
        let routingKey = Self.string(ok.pointee.routing_key)
        return try readContent(tag: tag, redelivered: redelivered, exchange: exchange, routingKey: routingKey)
    }

    // MARK: Traffic

    /// Publishes one persistent message, with `mandatory` set unless told otherwise. Confirms arrive
    /// as frames. On a plain TCP connection the message leaves with the next `flush()`.
    func publish(_ message: OutgoingMessage, mandatory: Bool = true) throws(AMQPError) {
        guard let pending else {
            let status = withArguments(of: message) { exchange, routingKey, properties, body in
                amqp_basic_publish(state, Self.channel, exchange, routingKey, mandatory ? 1 : 0, 0, properties, body)
            }
            guard status == AMQP_STATUS_OK.rawValue else { throw Self.libraryError("basic.publish", status) }
            return
        }
        try enqueue(pending, atLeast: message.body.count + 512, operation: "basic.publish") { out, capacity in
            withArguments(of: message) { exchange, routingKey, properties, body in
                herald_encode_publish(out, capacity, Self.channel, exchange, routingKey, mandatory ? 1 : 0, properties, body, frameMax)
            }
        }
    }

    /// Calls `body` with the exchange, routing key, properties and body of `message` as rabbitmq-c
    /// takes them, valid only during the call.
    private func withArguments<R>(
        of message: OutgoingMessage,
        _ body: (amqp_bytes_t, amqp_bytes_t, UnsafeMutablePointer<amqp_basic_properties_t>, amqp_bytes_t) -> R
    ) -> R {
        let headerPairs = message.headers.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
        return withTable(headerPairs) { headers in
            withArena { a in
                var props = amqp_basic_properties_t()
                props._flags = HERALD_FLAG_DELIVERY_MODE | HERALD_FLAG_MESSAGE_ID | HERALD_FLAG_CONTENT_TYPE
                props.delivery_mode = 2
                props.message_id = a.bytes(message.messageId)
                props.content_type = a.bytes(message.contentType)
                if !headerPairs.isEmpty {
                    props._flags |= HERALD_FLAG_HEADERS
                    props.headers = headers
                }
                if let millis = message.expirationMillis {
                    props._flags |= HERALD_FLAG_EXPIRATION
                    props.expiration = a.bytes(String(millis))
                }
                return message.body.withUnsafeBytes { bytes in
                    body(a.bytes(message.exchange), a.bytes(message.routingKey), &props, herald_bytes(bytes.baseAddress, bytes.count))
                }
            }
        }
    }

    /// Acknowledges one delivery, or (`multiple`) it and every earlier one not yet acknowledged.
    func ack(_ tag: UInt64, multiple: Bool = false) throws(AMQPError) {
        var method = amqp_basic_ack_t(delivery_tag: tag, multiple: multiple ? 1 : 0)
        try send(HERALD_BASIC_ACK, &method, "basic.ack")
    }

    /// Rejects one delivery as failed, requeued or dead-lettered. A requeue counts toward the
    /// quorum queue's delivery limit on every RabbitMQ version (4.3 counts only `basic.reject`).
    func reject(_ tag: UInt64, requeue: Bool) throws(AMQPError) {
        var method = amqp_basic_reject_t(delivery_tag: tag, requeue: requeue ? 1 : 0)
        try send(HERALD_BASIC_REJECT, &method, "basic.reject")
    }

    /// Returns one delivery unprocessed, requeued or dead-lettered. RabbitMQ 4.3 does not count a
    /// requeue by `basic.nack` toward the delivery limit; 3.x counts every return.
    func nack(_ tag: UInt64, requeue: Bool) throws(AMQPError) {
        var method = amqp_basic_nack_t(delivery_tag: tag, multiple: 0, requeue: requeue ? 1 : 0)
        try send(HERALD_BASIC_NACK, &method, "basic.nack")
    }

    /// A method without content on the channel: pending until `flush()` on a plain TCP connection,
    /// else written now.
    private func send<Method>(_ id: amqp_method_number_t, _ method: inout Method, _ operation: String) throws(AMQPError) {
        guard let pending else {
            let status = withUnsafeMutablePointer(to: &method) { amqp_send_method(state, Self.channel, id, $0) }
            guard status == AMQP_STATUS_OK.rawValue else { throw Self.libraryError(operation, status) }
            return
        }
        try withUnsafeMutablePointer(to: &method) { decoded throws(AMQPError) in
            try enqueue(pending, atLeast: 64, operation: operation) { out, capacity in
                herald_encode_method_frame(out, capacity, Self.channel, id, decoded)
            }
        }
    }

    /// Adds the frames `encode` writes to what is pending. What is pending is written first once
    /// there is a lot of it, before these are added: a failed write then means none of them left.
    private func enqueue(
        _ pending: PendingFrames,
        atLeast needed: Int,
        operation: String,
        _ encode: (UnsafeMutablePointer<UInt8>, Int) -> Int
    ) throws(AMQPError) {
        if pending.count >= PendingFrames.flushAt { try flush() }
        try pending.append(atLeast: needed, operation: operation, encode)
    }

    /// Whether publishes or acks wait for `flush()`.
    var hasPendingOutput: Bool { (pending?.count ?? 0) > 0 }

    /// Writes what `publish`, `ack`, `reject` and `nack` left pending, in one write (several if the
    /// kernel takes it in parts), waiting while the broker does not read. Anything rabbitmq-c
    /// writes itself (a method that waits for its answer) is preceded by this, so frames leave in
    /// the order they were made.
    func flush() throws(AMQPError) {
        guard let pending, pending.count > 0 else { return }
        defer { pending.clear() }
        guard herald_write_all(socketDescriptor, pending.bytes, pending.count) == 0 else {
            let reason = String(cString: strerror(errno))
            throw AMQPError.library(operation: "write to the broker", status: AMQP_STATUS_SOCKET_ERROR.rawValue, message: reason)
        }
    }

    /// Forgets what is pending: the broker closed the channel or the connection, so frames on it
    /// are void (and one written after `close-ok` would be an error).
    private func dropPending() { pending?.clear() }

    /// Reads the next frame if one arrives within `timeoutMillis` (0: only what is already there).
    /// Also services heartbeats, which rabbitmq-c does only inside this call and `basic_publish`.
    func nextEvent(timeoutMillis: Int) throws(AMQPError) -> ConnectionEvent? {
        var frame = amqp_frame_t()
        var timeout = timeval(tv_sec: timeoutMillis / 1000, tv_usec: (timeoutMillis % 1000) * 1000)
        let status = amqp_simple_wait_frame_noblock(state, &frame, &timeout)
        if status == AMQP_STATUS_TIMEOUT.rawValue { return nil }
        guard status == AMQP_STATUS_OK.rawValue else { throw Self.libraryError("read frame", status) }
        guard frame.frame_type == UInt8(AMQP_FRAME_METHOD) else { return .other }
        let method = frame.payload.method
        switch method.id {
        case HERALD_BASIC_ACK:
            let ack = method.decoded.assumingMemoryBound(to: amqp_basic_ack_t.self).pointee
            return .ack(tag: ack.delivery_tag, multiple: ack.multiple != 0)
        case HERALD_BASIC_NACK:
            let nack = method.decoded.assumingMemoryBound(to: amqp_basic_nack_t.self).pointee
            return .nack(tag: nack.delivery_tag, multiple: nack.multiple != 0)
        case HERALD_BASIC_RETURN:
            let ret = method.decoded.assumingMemoryBound(to: amqp_basic_return_t.self).pointee
            let text = Self.string(ret.reply_text)
            let content = try readContent(
                tag: 0,
                redelivered: false,
                exchange: Self.string(ret.exchange),
                routingKey: Self.string(ret.routing_key)
            )
            return .returned(messageId: content.messageId, replyText: text)
        case HERALD_BASIC_DELIVER:
            let deliver = method.decoded.assumingMemoryBound(to: amqp_basic_deliver_t.self).pointee
            let delivery = try readContent(
                tag: deliver.delivery_tag,
                redelivered: deliver.redelivered != 0,
                exchange: Self.string(deliver.exchange),
                routingKey: Self.string(deliver.routing_key)
            )
            return .delivery(delivery)
        case HERALD_CONNECTION_BLOCKED:
            return .blocked(reason: Self.string(herald_blocked_reason(&frame.payload.method)))
        case HERALD_CONNECTION_UNBLOCKED:
            return .unblocked
        case HERALD_BASIC_CANCEL:
            return .closed(.server(operation: "consume", code: 0, text: "the broker cancelled the consumer (queue deleted?)"))
        case HERALD_CHANNEL_CLOSE:
            let close = method.decoded.assumingMemoryBound(to: amqp_channel_close_t.self).pointee
            var ok = amqp_channel_close_ok_t(dummy: 0)
            dropPending()
            amqp_send_method(state, Self.channel, HERALD_CHANNEL_CLOSE_OK, &ok)
            return .closed(.server(operation: "channel", code: close.reply_code, text: Self.string(close.reply_text)))
        case HERALD_CONNECTION_CLOSE:
            let close = method.decoded.assumingMemoryBound(to: amqp_connection_close_t.self).pointee
            var ok = amqp_connection_close_ok_t(dummy: 0)
            dropPending()
            amqp_send_method(state, 0, HERALD_CONNECTION_CLOSE_OK, &ok)
            open = false
            return .closed(.server(operation: "connection", code: close.reply_code, text: Self.string(close.reply_text)))
        default:
            return .other
        }
    }

    /// Releases per-frame memory once nothing read from it is still referenced.
    func releaseBuffers() { amqp_maybe_release_buffers(state) }

    // MARK: Helpers

    private func readContent(tag: UInt64, redelivered: Bool, exchange: String, routingKey: String) throws(AMQPError) -> Delivery {
        var message = amqp_message_t()
        let reply = amqp_read_message(state, Self.channel, &message, 0)
        try check(reply, "read message")
        defer { amqp_destroy_message(&message) }
        let props = message.properties
        var headers: [String: AMQPHeaderValue] = [:]
        if props._flags & HERALD_FLAG_HEADERS != 0, props.headers.num_entries > 0, let entries = props.headers.entries {
            for i in 0..<Int(props.headers.num_entries) {
                let key = Self.string(entries[i].key)
                var integer: Int64 = 0
                var bytes = amqp_bytes_t()
                if herald_entry_integer(&entries[i].value, &integer) != 0 {
                    headers[key] = .int(integer)
                } else if herald_entry_bytes(&entries[i].value, &bytes) != 0 {
                    headers[key] = .string(Self.string(bytes))
                }
            }
        }
        let messageId = props._flags & HERALD_FLAG_MESSAGE_ID != 0 ? Self.string(props.message_id) : nil
        let body =
            message.body.len > 0 && message.body.bytes != nil
            ? Array(UnsafeRawBufferPointer(start: message.body.bytes, count: message.body.len)) : []
        return Delivery(
            deliveryTag: tag,
            generation: 0,
            redelivered: redelivered,
            exchange: exchange,
            routingKey: routingKey,
            messageId: messageId,
            headers: headers,
            body: body,
            persistent: props._flags & HERALD_FLAG_DELIVERY_MODE != 0 && props.delivery_mode == 2
        )
    }

    private func check(_ reply: amqp_rpc_reply_t, _ operation: String) throws(AMQPError) {
        switch reply.reply_type {
        case AMQP_RESPONSE_NORMAL:
            return
        case AMQP_RESPONSE_LIBRARY_EXCEPTION:
            throw Self.libraryError(operation, reply.library_error)
        case AMQP_RESPONSE_SERVER_EXCEPTION:
            var code: UInt16 = 0
            var text = amqp_bytes_t()
            var copy = reply
            if herald_close_reply(&copy, &code, &text) != 0 {
                dropPending()
                if reply.reply.id == HERALD_CONNECTION_CLOSE {
                    var ok = amqp_connection_close_ok_t(dummy: 0)
                    amqp_send_method(state, 0, HERALD_CONNECTION_CLOSE_OK, &ok)
                    open = false
                } else {
                    var ok = amqp_channel_close_ok_t(dummy: 0)
                    amqp_send_method(state, Self.channel, HERALD_CHANNEL_CLOSE_OK, &ok)
                }
                throw AMQPError.server(operation: operation, code: code, text: Self.string(text))
            }
            throw AMQPError.server(operation: operation, code: 0, text: "unexpected server reply")
        default:
            throw AMQPError.library(operation: operation, status: -1, message: "no reply")
        }
    }

    private static func libraryError(_ operation: String, _ status: Int32) -> AMQPError {
        .library(operation: operation, status: status, message: String(cString: amqp_error_string2(status)))
    }

    static func string(_ bytes: amqp_bytes_t) -> String {
        guard bytes.len > 0, let base = bytes.bytes else { return "" }
        return String(decoding: UnsafeRawBufferPointer(start: base, count: bytes.len), as: UTF8.self)
    }
}

/// A frame the connection loop acts on.
enum ConnectionEvent {
    case ack(tag: UInt64, multiple: Bool)
    case nack(tag: UInt64, multiple: Bool)
    case returned(messageId: String?, replyText: String)
    case delivery(Delivery)
    /// A resource alarm: the broker stops reading from connections that publish.
    case blocked(reason: String)
    /// The alarm cleared.
    case unblocked
    case closed(AMQPError)
    case other
}

/// Calls `body` with an AMQP table of `pairs`, valid only during the call.
func withTable<R, E: Error>(_ pairs: [(String, AMQPHeaderValue)], _ body: (amqp_table_t) throws(E) -> R) throws(E) -> R {
    if pairs.isEmpty { return try body(amqp_empty_table) }
    return try withArena { (arena: CStringArena) throws(E) -> R in
        var entries = pairs.map { key, value in
            switch value {
            case .int(let n): herald_entry_int(arena.cString(key), n)
            case .string(let s): herald_entry_string(arena.cString(key), arena.cString(s))
            }
        }
        return try entries.withUnsafeMutableBufferPointer { buffer throws(E) in
            try body(herald_table(buffer.baseAddress, Int32(buffer.count)))
        }
    }
}

/// A growing buffer of encoded frames, for one connection's thread.
final class PendingFrames {
    /// Past this much, what is pending is written before more is added, so that a fan-out's batch
    /// does not grow the buffer without bound.
    static let flushAt = 256 * 1024
    /// What the buffer shrinks back to after a write that needed more.
    private static let initialCapacity = 64 * 1024
    /// No single message is encoded into more than this.
    private static let largest = 64 * 1024 * 1024

    private(set) var bytes: UnsafeMutablePointer<UInt8>
    private(set) var count = 0
    private var capacity: Int

    init() {
        capacity = Self.initialCapacity
        bytes = .allocate(capacity: capacity)
    }

    deinit { bytes.deallocate() }

    /// Appends what `encode` writes at the end of the buffer (given that much room): it returns the
    /// length it wrote, or a negative rabbitmq-c status when the room was too small, and then it
    /// is given twice the room, up to `largest`.
    func append(atLeast needed: Int, operation: String, _ encode: (UnsafeMutablePointer<UInt8>, Int) -> Int) throws(AMQPError) {
        var room = max(needed, 4096)
        while true {
            reserve(room)
            let written = encode(bytes + count, capacity - count)
            if written >= 0 {
                count += written
                return
            }
            guard room < Self.largest else {
                throw AMQPError.library(
                    operation: operation,
                    status: Int32(clamping: written),
                    message: String(cString: amqp_error_string2(Int32(clamping: written)))
                )
            }
            room *= 2
        }
    }

    /// Empties the buffer, giving back room a large batch took.
    func clear() {
        count = 0
        if capacity > 4 * Self.initialCapacity {
            bytes.deallocate()
            capacity = Self.initialCapacity
            bytes = .allocate(capacity: capacity)
        }
    }

    private func reserve(_ room: Int) {
        guard capacity - count < room else { return }
        var grown = capacity
        while grown - count < room { grown *= 2 }
        let larger = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
        larger.update(from: bytes, count: count)
        bytes.deallocate()
        bytes = larger
        capacity = grown
    }
}
