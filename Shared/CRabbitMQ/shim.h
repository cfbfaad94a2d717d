#ifndef HERALD_CRABBITMQ_SHIM_H
#define HERALD_CRABBITMQ_SHIM_H
// rabbitmq-c 0.11 (Debian's librabbitmq-dev) for Swift. Its method ids and
// property flags are cast macros that Swift does not import, so they are
// restated here as constants; the helpers avoid C unions in Swift code.
#include <amqp.h>
#include <amqp_tcp_socket.h>
#include <amqp_ssl_socket.h>
#include <amqp_framing.h>
#include <string.h>
#include <stdlib.h>
#include <sys/time.h>
#include <poll.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <errno.h>
#include <stdint.h>

static const amqp_method_number_t HERALD_BASIC_ACK = AMQP_BASIC_ACK_METHOD;
static const amqp_method_number_t HERALD_BASIC_NACK = AMQP_BASIC_NACK_METHOD;
static const amqp_method_number_t HERALD_BASIC_REJECT = AMQP_BASIC_REJECT_METHOD;
static const amqp_method_number_t HERALD_BASIC_RETURN = AMQP_BASIC_RETURN_METHOD;
static const amqp_method_number_t HERALD_BASIC_DELIVER = AMQP_BASIC_DELIVER_METHOD;
static const amqp_method_number_t HERALD_BASIC_CANCEL = AMQP_BASIC_CANCEL_METHOD;
static const amqp_method_number_t HERALD_CHANNEL_CLOSE = AMQP_CHANNEL_CLOSE_METHOD;
static const amqp_method_number_t HERALD_CHANNEL_CLOSE_OK = AMQP_CHANNEL_CLOSE_OK_METHOD;
static const amqp_method_number_t HERALD_CONNECTION_CLOSE = AMQP_CONNECTION_CLOSE_METHOD;
static const amqp_method_number_t HERALD_CONNECTION_CLOSE_OK = AMQP_CONNECTION_CLOSE_OK_METHOD;
static const amqp_method_number_t HERALD_CONNECTION_BLOCKED = AMQP_CONNECTION_BLOCKED_METHOD;
static const amqp_method_number_t HERALD_CONNECTION_UNBLOCKED = AMQP_CONNECTION_UNBLOCKED_METHOD;
static const amqp_method_number_t HERALD_BASIC_GET_OK = AMQP_BASIC_GET_OK_METHOD;
static const amqp_method_number_t HERALD_BASIC_GET_EMPTY = AMQP_BASIC_GET_EMPTY_METHOD;

static const amqp_flags_t HERALD_FLAG_CONTENT_TYPE = AMQP_BASIC_CONTENT_TYPE_FLAG;
static const amqp_flags_t HERALD_FLAG_HEADERS = AMQP_BASIC_HEADERS_FLAG;
static const amqp_flags_t HERALD_FLAG_DELIVERY_MODE = AMQP_BASIC_DELIVERY_MODE_FLAG;
static const amqp_flags_t HERALD_FLAG_EXPIRATION = AMQP_BASIC_EXPIRATION_FLAG;
static const amqp_flags_t HERALD_FLAG_MESSAGE_ID = AMQP_BASIC_MESSAGE_ID_FLAG;
static const amqp_flags_t HERALD_FLAG_TIMESTAMP = AMQP_BASIC_TIMESTAMP_FLAG;

/// amqp_login with PLAIN credentials (the C function is variadic, which Swift cannot call).
/// Announces the `connection.blocked` capability, so the broker says when a resource alarm blocks
/// publishing (rabbitmq-c merges it into its default capabilities), and names the connection
/// (`connection_name`), so operators and tests can tell connections apart in the broker.
static inline amqp_rpc_reply_t herald_login_plain(amqp_connection_state_t state, const char *vhost, int frame_max,
                                                  int heartbeat, const char *user, const char *password,
                                                  const char *connection_name) {
    amqp_table_entry_t capabilities[1];
    capabilities[0].key = amqp_cstring_bytes("connection.blocked");
    capabilities[0].value.kind = AMQP_FIELD_KIND_BOOLEAN;
    capabilities[0].value.value.boolean = 1;
    amqp_table_entry_t properties[2];
    properties[0].key = amqp_cstring_bytes("capabilities");
    properties[0].value.kind = AMQP_FIELD_KIND_TABLE;
    properties[0].value.value.table.num_entries = 1;
    properties[0].value.value.table.entries = capabilities;
    properties[1].key = amqp_cstring_bytes("connection_name");
    properties[1].value.kind = AMQP_FIELD_KIND_UTF8;
    properties[1].value.value.bytes = amqp_cstring_bytes(connection_name);
    amqp_table_t table;
    table.num_entries = 2;
    table.entries = properties;
    return amqp_login_with_properties(state, vhost, 0, frame_max, heartbeat, &table, AMQP_SASL_METHOD_PLAIN, user, password);
}

/// Sends basic.cancel with no-wait: the broker stops delivering to `consumer_tag`; no reply comes.
static inline int herald_basic_cancel_nowait(amqp_connection_state_t state, amqp_channel_t channel, amqp_bytes_t consumer_tag) {
    amqp_basic_cancel_t cancel;
    cancel.consumer_tag = consumer_tag;
    cancel.nowait = 1;
    return amqp_send_method(state, channel, AMQP_BASIC_CANCEL_METHOD, &cancel);
}

/// Sends basic.qos without waiting for its basic.qos-ok, which the connection's loop reads like
/// any other frame: a question the broker answers at once, to learn whether it is still there.
static inline int herald_basic_qos_nowait(amqp_connection_state_t state, amqp_channel_t channel, uint16_t prefetch) {
    amqp_basic_qos_t qos;
    qos.prefetch_size = 0;
    qos.prefetch_count = prefetch;
    qos.global = 0;
    return amqp_send_method(state, channel, AMQP_BASIC_QOS_METHOD, &qos);
}

/// The reason text of a connection.blocked method.
static inline amqp_bytes_t herald_blocked_reason(const amqp_method_t *method) {
    return ((const amqp_connection_blocked_t *)method->decoded)->reason;
}

/// Bytes of a C string (not copied).
static inline amqp_bytes_t herald_bytes(const void *data, size_t len) {
    amqp_bytes_t b; b.len = len; b.bytes = (void *)data; return b;
}

/// A table entry holding a UTF-8 string; key and value are not copied.
static inline amqp_table_entry_t herald_entry_string(const char *key, const char *value) {
    amqp_table_entry_t e;
    e.key = amqp_cstring_bytes(key);
    e.value.kind = AMQP_FIELD_KIND_UTF8;
    e.value.value.bytes = amqp_cstring_bytes(value);
    return e;
}

/// A table entry holding a signed 64-bit integer; the key is not copied.
static inline amqp_table_entry_t herald_entry_int(const char *key, int64_t value) {
    amqp_table_entry_t e;
    e.key = amqp_cstring_bytes(key);
    e.value.kind = AMQP_FIELD_KIND_I64;
    e.value.value.i64 = value;
    return e;
}

/// A table over `count` entries (not copied).
static inline amqp_table_t herald_table(amqp_table_entry_t *entries, int count) {
    amqp_table_t t; t.num_entries = count; t.entries = entries; return t;
}

/// 1 and the integer in *out when the entry holds any integer kind, else 0.
static inline int herald_entry_integer(const amqp_field_value_t *v, int64_t *out) {
    switch (v->kind) {
    case AMQP_FIELD_KIND_I8: *out = v->value.i8; return 1;
    case AMQP_FIELD_KIND_U8: *out = v->value.u8; return 1;
    case AMQP_FIELD_KIND_I16: *out = v->value.i16; return 1;
    case AMQP_FIELD_KIND_U16: *out = v->value.u16; return 1;
    case AMQP_FIELD_KIND_I32: *out = v->value.i32; return 1;
    case AMQP_FIELD_KIND_U32: *out = v->value.u32; return 1;
    case AMQP_FIELD_KIND_I64: *out = v->value.i64; return 1;
    case AMQP_FIELD_KIND_U64: case AMQP_FIELD_KIND_TIMESTAMP: *out = (int64_t)v->value.u64; return 1;
    default: return 0;
    }
}

/// 1 and the bytes in *out when the entry holds a string, else 0.
static inline int herald_entry_bytes(const amqp_field_value_t *v, amqp_bytes_t *out) {
    if (v->kind == AMQP_FIELD_KIND_UTF8 || v->kind == AMQP_FIELD_KIND_BYTES) { *out = v->value.bytes; return 1; }
    return 0;
}

/// The text of a server's channel.close or connection.close, for errors.
static inline int herald_close_reply(const amqp_rpc_reply_t *r, uint16_t *code, amqp_bytes_t *text) {
    if (r->reply_type != AMQP_RESPONSE_SERVER_EXCEPTION || r->reply.decoded == NULL) return 0;
    if (r->reply.id == AMQP_CONNECTION_CLOSE_METHOD) {
        amqp_connection_close_t *m = (amqp_connection_close_t *)r->reply.decoded;
        *code = m->reply_code; *text = m->reply_text; return 1;
    }
    if (r->reply.id == AMQP_CHANNEL_CLOSE_METHOD) {
        amqp_channel_close_t *m = (amqp_channel_close_t *)r->reply.decoded;
        *code = m->reply_code; *text = m->reply_text; return 1;
    }
    return 0;
}

/// Sleep-free wait for the socket or a wake pipe; returns poll's result.
static inline int herald_poll2(int fd_a, int fd_b, int timeout_ms, int *a_ready, int *b_ready) {
    struct pollfd fds[2];
    int n = 0;
    if (fd_a >= 0) { fds[n].fd = fd_a; fds[n].events = POLLIN; fds[n].revents = 0; n++; }
    fds[n].fd = fd_b; fds[n].events = POLLIN; fds[n].revents = 0; n++;
    int rc = poll(fds, n, timeout_ms);
    *a_ready = (fd_a >= 0) && (fds[0].revents & (POLLIN | POLLERR | POLLHUP)) ? 1 : 0;
    *b_ready = (fds[n - 1].revents & POLLIN) ? 1 : 0;
    return rc;
}

/// Milliseconds since the kernel last received data on the TCP socket `fd` (heartbeats count,
/// although rabbitmq-c keeps them to itself), or -1 when it cannot say.
static inline long herald_millis_since_received(int fd) {
    struct tcp_info info;
    socklen_t length = sizeof info;
    if (fd < 0 || getsockopt(fd, IPPROTO_TCP, TCP_INFO, &info, &length) != 0) return -1;
    return (long)info.tcpi_last_data_recv;
}

/// Makes a pipe whose ends do not block; returns 0 on success.
static inline int herald_wake_pipe(int fds[2]) {
    if (pipe(fds) != 0) return -1;
    fcntl(fds[0], F_SETFL, O_NONBLOCK);
    fcntl(fds[1], F_SETFL, O_NONBLOCK);
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    fcntl(fds[1], F_SETFD, FD_CLOEXEC);
    return 0;
}

// MARK: Frames written by Herald
// rabbitmq-c writes every frame with a system call of its own: a publish is three (method,
// content header, body) and an ack one. These encode the same frames, with rabbitmq-c's own
// encoders, into a buffer the connection writes whole (`herald_write_all`), so that a loop
// iteration's publishes and acks leave in one write.

static inline void herald_put16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)(v >> 8); p[1] = (uint8_t)v; }
static inline void herald_put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)(v >> 24); p[1] = (uint8_t)(v >> 16); p[2] = (uint8_t)(v >> 8); p[3] = (uint8_t)v;
}
static inline void herald_put64(uint8_t *p, uint64_t v) { herald_put32(p, (uint32_t)(v >> 32)); herald_put32(p + 4, (uint32_t)v); }

/// A frame's first 7 bytes (type, channel, payload size) at `frame`, and its end byte after the payload.
static inline void herald_frame_bounds(uint8_t *frame, uint8_t type, amqp_channel_t channel, uint32_t size) {
    frame[0] = type;
    herald_put16(frame + 1, channel);
    herald_put32(frame + 3, size);
    frame[7 + size] = AMQP_FRAME_END;
}

/// One method frame of `id` with its arguments `decoded` (e.g. an amqp_basic_ack_t) on `channel`,
/// at `out`. Returns its length, or a negative rabbitmq-c status (`out` too small among others).
static inline long herald_encode_method_frame(uint8_t *out, size_t capacity, amqp_channel_t channel,
                                              amqp_method_number_t id, void *decoded) {
    if (capacity < 12) return AMQP_STATUS_BAD_AMQP_DATA;
    amqp_bytes_t arguments = { capacity - 12, out + 11 };
    int length = amqp_encode_method(id, decoded, arguments);
    if (length < 0) return length;
    herald_frame_bounds(out, AMQP_FRAME_METHOD, channel, (uint32_t)length + 4);
    herald_put32(out + 7, id);
    return 12 + (long)length;
}

/// The frames of one basic.publish (method, content header, body in frames of at most
/// `frame_max`) at `out`. Returns their length, or a negative rabbitmq-c status.
static inline long herald_encode_publish(uint8_t *out, size_t capacity, amqp_channel_t channel, amqp_bytes_t exchange,
                                         amqp_bytes_t routing_key, int mandatory, amqp_basic_properties_t *properties,
                                         amqp_bytes_t body, size_t frame_max) {
    amqp_basic_publish_t method = { 0 };
    method.exchange = exchange;
    method.routing_key = routing_key;
    method.mandatory = mandatory ? 1 : 0;
    long length = herald_encode_method_frame(out, capacity, channel, AMQP_BASIC_PUBLISH_METHOD, &method);
    if (length < 0) return length;
    size_t used = (size_t)length;
    if (capacity - used < 20) return AMQP_STATUS_BAD_AMQP_DATA;
    uint8_t *header = out + used;
    amqp_bytes_t encoded = { capacity - used - 20, header + 19 };
    int size = amqp_encode_properties(AMQP_BASIC_CLASS, properties, encoded);
    if (size < 0) return size;
    herald_frame_bounds(header, AMQP_FRAME_HEADER, channel, (uint32_t)size + 12);
    herald_put16(header + 7, AMQP_BASIC_CLASS);
    herald_put16(header + 9, 0);
    herald_put64(header + 11, (uint64_t)body.len);
    used += 20 + (size_t)size;
    size_t chunk = frame_max > 8 ? frame_max - 8 : body.len;
    for (size_t sent = 0; sent < body.len; sent += chunk) {
        size_t part = body.len - sent < chunk ? body.len - sent : chunk;
        if (capacity - used < part + 8) return AMQP_STATUS_BAD_AMQP_DATA;
        uint8_t *frame = out + used;
        herald_frame_bounds(frame, AMQP_FRAME_BODY, channel, (uint32_t)part);
        memcpy(frame + 7, (const uint8_t *)body.bytes + sent, part);
        used += part + 8;
    }
    return (long)used;
}

/// Writes all of `length` bytes to the socket `fd` (rabbitmq-c keeps it non-blocking), waiting
/// while the kernel's buffer is full. Returns 0, or -1 with errno set.
static inline int herald_write_all(int fd, const uint8_t *bytes, size_t length) {
    size_t written = 0;
    while (written < length) {
        ssize_t n = send(fd, bytes + written, length - written, MSG_NOSIGNAL);
        if (n > 0) { written += (size_t)n; continue; }
        if (n < 0 && errno == EINTR) continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd p = { fd, POLLOUT, 0 };
            if (poll(&p, 1, -1) < 0 && errno != EINTR) return -1;
            continue;
        }
        if (n == 0) errno = EPIPE;
        return -1;
    }
    return 0;
}

#endif
