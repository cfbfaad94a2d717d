import AMQP
import Crypto
import Foundation
import Testing

/// Runs a program from PATH; its exit status and everything it printed.
private func run(_ arguments: [String], environment: [String: String] = [:]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
    process.arguments = arguments
    process.currentDirectoryURL = root
    process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = pipe
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A shell variable's words from deploy/packages.env.
private func packages(_ name: String) throws -> [String] {
    try matches("^\(name)=\"([^\"]*)\"", in: text("deploy/packages.env")).first?.split(separator: " ").map(String.init) ?? []
}

@Suite struct DeploymentFileTests {
    @Test func theComposeFileValidatesWithDockerCompose() throws {
        let valid = try run(
            ["docker-compose", "-f", "docker-compose.yml", "config", "-q"],
            environment: ["HERALD_JWT_SECRET": "a-secret-of-at-least-32-bytes-for-the-check"]
        )
        #expect(valid.status == 0, "docker-compose config: \(valid.output) (make test installs Debian's docker-compose)")
        let withoutSecret = try run(["docker-compose", "-f", "docker-compose.yml", "config", "-q"], environment: ["HERALD_JWT_SECRET": ""])
        #expect(withoutSecret.status != 0)
        #expect(withoutSecret.output.contains("set HERALD_JWT_SECRET in .env"))
    }

    /// A service's block of docker-compose.yml.
    private func composeService(_ name: String, in compose: String) throws -> String {
        let after = try #require(compose.components(separatedBy: "\n  \(name):\n").dropFirst().first, "no service \(name)")
        return after.components(separatedBy: "\n\n").first ?? after
    }

    @Test func theComposeServicesShareAPostgreSQLServerNotAVolume() throws {
        let compose = try text("docker-compose.yml")
        let dispatcher = try composeService("dispatcher", in: compose)
        #expect(!dispatcher.contains("container_name"), "a fixed name or host port stops --scale")
        #expect(!dispatcher.contains("ports:"), "a fixed name or host port stops --scale")
        for service in ["ingest", "dispatcher"] {
            #expect(!(try composeService(service, in: compose)).contains("volumes:"), "\(service) keeps nothing on a volume")
            #expect((try composeService(service, in: compose)).contains("postgres:\n        condition: service_healthy"))
        }
        #expect(!compose.contains("HERALD_DB_PATH"))
        #expect(compose.contains("HERALD_DATABASE_URL: postgres://herald:${HERALD_POSTGRES_PASSWORD:-herald}@postgres:5432/herald"))
        let postgres = try composeService("postgres", in: compose)
        #expect(postgres.contains("image: postgres:15"))
        #expect(postgres.contains("pg_isready"))
        #expect(compose.contains("rabbitmq:3.13-management"))
        #expect(compose.contains("healthcheck:"))
        // Every key of .env.example is one the compose file reads.
        for key in try matches(#"^(HERALD_[A-Z_]+)="#, in: text(".env.example")) {
            #expect(compose.contains("${\(key)"), "docker-compose.yml does not read \(key) from .env")
        }
    }

    @Test func theKubernetesManifestsRunIngestAndDispatchersOnAnyNode() throws {
        let config = try text("deploy/k8s/config.yaml")
        let ingest = try text("deploy/k8s/ingest.yaml")
        let dispatcher = try text("deploy/k8s/dispatcher.yaml")
        for (name, manifest) in [("config.yaml", config), ("ingest.yaml", ingest), ("dispatcher.yaml", dispatcher)] {
            #expect(!manifest.contains("podAffinity"), "\(name) ties pods to a node")
            #expect(!manifest.contains("PersistentVolumeClaim") && !manifest.contains("persistentVolumeClaim"), "\(name) keeps a volume")
            #expect(!manifest.contains("HERALD_DB_PATH"), "\(name) points at a SQLite file")
        }
        #expect(config.contains("HERALD_DATABASE_URL: \"postgres://"), "the Secret carries the database URL")
        let replicas = try #require(try matches(#"^  replicas: (\d+)"#, in: ingest).first.flatMap { Int($0) })
        #expect(replicas >= 2)
        let budget = try #require(
            ingest.components(separatedBy: "kind: PodDisruptionBudget").dropFirst().first,
            "ingest has a PodDisruptionBudget"
        )
        #expect(budget.contains("minAvailable: 1"))
        #expect(budget.contains("matchLabels: {app.kubernetes.io/name: herald-ingest}"))
    }

    /// The image is built by the same scripts as `make run` and `make bench`, installs at run time
    /// exactly the libraries the local build links, runs the executables the local scripts run, as non-root.
    @Test func theImageBuildsAndRunsTheWayTheLocalScriptsDo() throws {
        let dockerfile = try text("deploy/Dockerfile")
        let build = try text("deploy/build.sh")
        #expect(dockerfile.contains("RUN deploy/local/install-deps.sh --build-only"))
        #expect(dockerfile.contains("deploy/build.sh release"))
        #expect(dockerfile.contains("deploy/build.sh install /out release"))
        #expect(try text("deploy/local/run.sh").contains("deploy/build.sh debug"))
        // Both benchmarks build through the setup they share.
        #expect(try text("deploy/bench/setup.sh").contains("deploy/build.sh release"))
        for bench in ["deploy/bench/run.sh", "deploy/bench/fanout-memory.sh"] {
            #expect(try text(bench).contains(". deploy/bench/setup.sh"), "\(bench) builds through deploy/bench/setup.sh")
        }

        let products = try matches(#"\.executable\(name: "([^"]+)""#, in: text("Package.swift"))
        let built = try #require(try matches(#"^products=\(([^)]*)\)"#, in: build).first).split(separator: " ").map(String.init)
        #expect(Set(built) == Set(products))
        #expect(products.count == 6)

        // Runtime packages: what the image installs is what the -dev packages the local build uses pull in.
        #expect(dockerfile.contains("apt-get install -y --no-install-recommends $RUNTIME_PACKAGES"))
        let runtime = try packages("RUNTIME_PACKAGES")
        // The two shared libraries, and the trust store TLS verifies against (APNs, FCM, amqps://, PostgreSQL).
        #expect(runtime == ["librabbitmq4", "libsqlite3-0", "ca-certificates"])
        for (dev, library) in zip(try packages("BUILD_PACKAGES").prefix(2), runtime) {
            let depends = try run(["dpkg-query", "-W", "-f=${Depends}", dev])
            #expect(depends.output.contains(library), "\(dev) depends on \(library)")
        }

        // Commands: compose and Kubernetes run what make run runs.
        // The APNs/FCM stand-in is make run's own: deployments push to the real services.
        let local = Set(try matches(#""\$bin/(herald-[a-z-]+)""#, in: text("deploy/local/run.sh"))).subtracting(["herald-push-sandbox"])
        #expect(local == ["herald-ingest", "herald-dispatcher", "herald-gateway"])
        let compose = Set(try matches(#"command: \["([^"]+)"\]"#, in: text("docker-compose.yml")))
        let kubernetes = Set(
            try matches(
                #"command: \["([^"]+)"\]"#,
                in: text("deploy/k8s/ingest.yaml") + text("deploy/k8s/dispatcher.yaml") + text("deploy/k8s/gateway.yaml")
            )
        )
        #expect(compose == local)
        #expect(kubernetes == local)

        // Non-root, the same user everywhere.
        #expect(dockerfile.contains("useradd --system --uid 10001"))
        #expect(dockerfile.contains("USER herald:herald"))
        for manifest in ["deploy/k8s/ingest.yaml", "deploy/k8s/dispatcher.yaml", "deploy/k8s/gateway.yaml"] {
            let body = try text(manifest)
            #expect(body.contains("runAsNonRoot: true"), "\(manifest)")
            #expect(body.contains("runAsUser: 10001"), "\(manifest)")
        }
    }

    @Test func theDispatcherIsAutoscaledOnTheRequestsQueue() throws {
        let keda = try text("deploy/k8s/keda-scaledobject.yaml")
        #expect(keda.contains("kind: ScaledObject"))
        #expect(keda.contains("type: rabbitmq"))
        #expect(keda.contains("queueName: \(Topology.requests)"))
        #expect(keda.contains("mode: QueueLength"))
        let target = try #require(try matches(#"scaleTargetRef:\s*\n\s+name: (\S+)"#, in: keda).first)
        #expect(try text("deploy/k8s/dispatcher.yaml").contains("kind: Deployment\nmetadata:\n  name: \(target)\n"))
        for manifest in [
            "config.yaml", "ingest.yaml", "dispatcher.yaml", "gateway.yaml", "keda-scaledobject.yaml", "rabbitmq-cluster.yaml",
        ] {
            let parsed = try run([
                "/usr/bin/python3", "-c", "import sys, yaml; list(yaml.safe_load_all(open(sys.argv[1])))", "deploy/k8s/\(manifest)",
            ])
            #expect(parsed.status == 0, "\(manifest) is valid YAML: \(parsed.output)")
        }
    }

    /// Every key the deployment files set is one the code reads (ContractsTests checks the code against docs/contracts.md).
    @Test func everyConfigurationKeyTheDeploymentFilesSetIsReal() throws {
        let read = try configurationKeysTheCodeReads()
        let set =
            try matches(#"^\s+(HERALD_[A-Z_]+): "#, in: text("docker-compose.yml") + text("deploy/k8s/config.yaml"))
            + matches(
                #"name: (HERALD_[A-Z_]+)"#,
                in: text("deploy/k8s/ingest.yaml") + text("deploy/k8s/dispatcher.yaml") + text("deploy/k8s/gateway.yaml")
            )
            + matches(#"^(HERALD_[A-Z_]+)="#, in: text(".env.example"))
        let composeOnly: Set = [
            "HERALD_RABBITMQ_USER", "HERALD_RABBITMQ_PASSWORD", "HERALD_RABBITMQ_NODES", "HERALD_ERLANG_COOKIE", "HERALD_POSTGRES_PASSWORD",
        ]
        let unknown = Set(set).subtracting(composeOnly).subtracting(read).sorted()
        #expect(unknown.isEmpty, "set by a deployment file but read by no service")
    }

    @Test func theBrokerDefinitionsMatchWhatTheServicesDeclare() throws {
        let committed = try text("deploy/rabbitmq/definitions.json")
        let hash = try #require(try matches(#""password_hash": "([^"]+)""#, in: committed).first)
        #expect(
            Topology().definitionsJSON(user: .init(name: "herald", passwordHash: hash)) == committed,
            "regenerate with: heraldctl broker definitions --salt 48657261 > deploy/rabbitmq/definitions.json"
        )
        let bytes = try #require(Data(base64Encoded: hash))
        #expect(
            Array(bytes.dropFirst(4)) == Array(SHA256.hash(data: Array(bytes.prefix(4)) + Array("herald".utf8))),
            "the password is the documented one"
        )
        #expect(try text("deploy/rabbitmq/rabbitmq.conf").contains("definitions.local.path = /etc/rabbitmq/herald-definitions.json"))
    }
}
