import HeraldCore

extension Topology {
    /// A user for the broker definitions file, with a password hash RabbitMQ accepts
    /// (`rabbit_password_hashing_sha256`).
    public struct DefinitionsUser: Sendable {
        public var name: String
        public var passwordHash: String
        public init(name: String, passwordHash: String) {
            self.name = name
            self.passwordHash = passwordHash
        }
    }

    /// Herald's topology as a RabbitMQ definitions document (`load_definitions`,
    /// `rabbitmqctl import_definitions`), so a broker can hold the queues before any service starts
    /// and an autoscaler can watch `herald.requests` from the first minute.
    public func definitionsJSON(user: DefinitionsUser) -> String {
        let string = JSONText.quoted
        func arguments(_ pairs: [(String, AMQPHeaderValue)]) -> String {
            "{"
                + pairs.map { key, value in
                    switch value {
                    case .string(let text): "\(string(key)): \(string(text))"
                    case .int(let number): "\(string(key)): \(number)"
                    }
                }.joined(separator: ", ") + "}"
        }
        let queues = queueSpecs.map {
            "    {\"name\": \(string($0.name)), \"vhost\": \"/\", \"durable\": true, \"auto_delete\": false, \"arguments\": \(arguments($0.arguments))}"
        }
        let bindings = Self.pushBindings.map {
            "    {\"source\": \(string(Self.pushExchange)), \"vhost\": \"/\", \"destination\": \(string($0.queue)), "
                + "\"destination_type\": \"queue\", \"routing_key\": \(string($0.routingKey)), \"arguments\": {}}"
        }
        return """
            {
              "users": [
                {"name": \(string(user.name)), "password_hash": \(string(user.passwordHash)), "hashing_algorithm": "rabbit_password_hashing_sha256", "tags": ["administrator"]}
              ],
              "vhosts": [{"name": "/"}],
              "permissions": [
                {"user": \(string(user.name)), "vhost": "/", "configure": ".*", "write": ".*", "read": ".*"}
              ],
              "queues": [
            \(queues.joined(separator: ",\n"))
              ],
              "exchanges": [
                {"name": \(string(Self.pushExchange)), "vhost": "/", "type": "direct", "durable": true, "auto_delete": false, "internal": false, "arguments": {}}
              ],
              "bindings": [
            \(bindings.joined(separator: ",\n"))
              ]
            }

            """
    }
}
