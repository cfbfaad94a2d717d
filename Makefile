# Herald's two commands. Both install what is missing and start what they need.
#   make run    the whole system locally: broker, ingest, dispatcher, demo directory, demo sends
#   make test   every test, against its own broker
.PHONY: run stop test build format bench bench-instructions bench-memory bench-cluster bench-gateway
run:
	@deploy/local/run.sh

stop:
	@deploy/local/stop.sh

test:
	@deploy/local/test.sh

build:
	@deploy/local/install-deps.sh && swift build

# Rewrites every Swift file the way .swift-format says; make test fails on code that is not.
format:
	@swift format format --in-place --recursive --parallel Package.swift Services Shared Tests

# The benchmark of BENCHMARKS.md (release build, its own broker on port 5674 and PostgreSQL on 5435; every phase on both stores; ~15 minutes).
bench:
	@deploy/bench/run.sh

# Instructions per send of ingest and the dispatcher, counted by callgrind over 2,000 sends on each store (BENCHMARKS.md; ~10 minutes).
bench-instructions:
	@deploy/bench/instructions.sh

# A fan-out to a 1,000,000-user group, once and twice at once, with the dispatcher's peak memory (BENCHMARKS.md).
bench-memory:
	@deploy/bench/fanout-memory.sh

# The raw broker ceiling and a 100,000-user fan-out on a three-node cluster beside one node (BENCHMARKS.md).
bench-cluster:
	@deploy/bench/cluster.sh


# herald-gateway's pushes/s against the APNs/FCM stand-in beside h2load's, and its peak memory with 10,000 envelopes waiting (BENCHMARKS.md).
bench-gateway:
	@deploy/bench/gateway.sh
