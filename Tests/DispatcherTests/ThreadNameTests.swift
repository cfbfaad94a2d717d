import Testing

@testable import AMQP

/// The names broker connection threads show in `top -H`, perf and /proc: Linux keeps 15 bytes.
struct ThreadNameTests {
    @Test func eachRoleNamesItsThreadByItsLastWord() {
        #expect(ConnectionLoop.threadName(role: "ingest") == "amqp-ingest")
        #expect(ConnectionLoop.threadName(role: "dispatcher-publish") == "amqp-publish")
        #expect(ConnectionLoop.threadName(role: "dispatcher-consume") == "amqp-consume")
        #expect(ConnectionLoop.threadName(role: "gateway-android") == "amqp-android")
    }

    @Test func aLongRoleIsCutToWhatLinuxKeeps() {
        let name = ConnectionLoop.threadName(role: "bench-envelopecollector")
        #expect(name == "amqp-envelopeco")
        #expect(name.utf8.count == 15)
    }
}
