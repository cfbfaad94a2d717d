import Testing

@testable import AMQP

/// `HERALD_AMQP_URL` naming one node or a cluster's nodes (issue 15).
struct BrokerURLTests {
    @Test func oneURLIsOneNode() throws {
        let configuration = try AMQPConfiguration(url: "amqp://u:p%40ss@h1:5673/v%2fh")
        #expect(configuration.nodes == [.init(host: "h1", port: 5673, username: "u", password: "p@ss", virtualHost: "v/h")])
        #expect(configuration.aimed(at: 7) == configuration)
        #expect(configuration.redactedDescription == "amqp://h1:5673/v/h")
    }

    @Test func shortEntriesShareTheFirstURLsCredentialsAndTheVirtualHost() throws {
        let configuration = try AMQPConfiguration(url: "amqp://u:p@h1:5672, h2:5673 ,h3/%2fapp")
        #expect(configuration.nodes.map(\.host) == ["h1", "h2", "h3"])
        #expect(configuration.nodes.map(\.port) == [5672, 5673, 5672])
        #expect(configuration.nodes.allSatisfy { $0.username == "u" && $0.password == "p" && $0.virtualHost == "/app" })
        let second = configuration.aimed(at: 4)
        #expect(second.host == "h2" && second.port == 5673 && second.nodes.count == 1)
        #expect(!configuration.redactedDescription.contains("p@"))
    }

    @Test func completeURLsKeepTheirOwn() throws {
        let configuration = try AMQPConfiguration(url: "amqp://a:1@h1:5672/%2f,amqp://b:2@h2:5672/other")
        #expect(configuration.nodes[1] == .init(host: "h2", port: 5672, username: "b", password: "2", virtualHost: "other"))
        #expect(configuration.aimed(at: -1).host == "h2")
    }

    @Test func amqpsIsTLSOnEveryNodeWithItsOwnDefaultPort() throws {
        let configuration = try AMQPConfiguration(url: "amqps://u:p@h1,h2:5699,amqps://v:q@h3/%2f")
        #expect(configuration.tls == AMQPConfiguration.TLS())
        #expect(configuration.nodes.map(\.port) == [5671, 5699, 5671])
        #expect(configuration.aimed(at: 1).tls != nil, "every node is reached the same way")
        #expect(configuration.redactedDescription == "amqps://h1:5671/%2f,amqps://h2:5699/%2f,amqps://h3:5671/%2f")
        #expect(try AMQPConfiguration(url: "amqp://u:p@h1").tls == nil)
    }

    @Test(arguments: [
        "", "h1:5672", "amqp://u:p@h1,", "amqp://u:p@h1,u:secret@h2", "amqp://u:p@h1,http://h2", "amqp://u:p@h1,amqps://u:secret@h2",
        "amqps://u:secret@h1,amqp://u:p@h2",
    ])
    func aWrongEntryIsOneClearErrorNamingTheKeyWithoutItsPassword(_ url: String) {
        #expect {
            _ = try AMQPConfiguration(url: url)
        } throws: { error in
            let text = "\(error)"
            return text.contains("HERALD_AMQP_URL") && !text.contains("secret")
        }
    }
}
