import Testing

/// Everything that talks to the real broker runs one test at a time: they share its queues.
@Suite(.serialized, .timeLimit(.minutes(5)))
struct BrokerTests {}
