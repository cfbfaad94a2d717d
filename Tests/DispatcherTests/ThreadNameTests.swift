import Testing

@testable import AMQP

/// The names the broker client's threads show in `top -H`, perf and /proc: Linux keeps 15 bytes.
struct ThreadNameTests {
    @Test func eachRoleNamesItsThreadByItsLastWord() {
        #expect(ThreadName.make("amqp-", role: "ingest") == "amqp-ingest")
        #expect(ThreadName.make("amqp-", role: "dispatcher-publish") == "amqp-publish")
        #expect(ThreadName.make("amqp-", role: "dispatcher-consume") == "amqp-consume")
        #expect(ThreadName.make("amqp-", role: "gateway-android") == "amqp-android")
    }

    @Test func aPublishersDeadlineWatchdogIsNamedAfterItsRole() {
        #expect(ThreadName.make("amqp-dl-", role: "dispatcher-publish") == "amqp-dl-publish")
        #expect(ThreadName.make("amqp-dl-", role: "ingest") == "amqp-dl-ingest")
    }

    @Test func aLongRoleIsCutToWhatLinuxKeeps() {
        let name = ThreadName.make("amqp-", role: "bench-envelopecollector")
        #expect(name == "amqp-envelopeco")
        #expect(name.utf8.count == 15)
    }
}
