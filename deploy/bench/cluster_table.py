"""Prints BENCHMARKS.md's cluster table from the files deploy/bench/cluster.sh wrote.

usage: cluster_table.py OUT
"""
import json, pathlib, platform, subprocess, sys

out = pathlib.Path(sys.argv[1])

def load(path):
    return json.loads((out / path).read_text().strip().splitlines()[-1])

def ticks(path):
    return int((out / path).read_text().strip()) / 100  # clock ticks -> CPU seconds

cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
print()
print(f"machine: {cpu}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, {platform.system()} {platform.release()}")
print()
print("| round | figure | one node | three-node cluster | cluster ÷ one node |")
print("|---|---|---|---|---|")
for round in (1, 2):
    s, c = load(f"single-broker-{round}.json"), load(f"cluster-broker-{round}.json")
    for key, label in [("publish_per_second", "raw confirmed publish, msg/s"), ("consume_per_second", "raw consume with acks, msg/s")]:
        a, b = float(s[key]), float(c[key])
        print(f"| {round} | {label} | {a:,.0f} | {b:,.0f} | {b / a:.2f} |")
    a, b = ticks(f"single-broker-ticks-{round}"), ticks(f"cluster-broker-ticks-{round}")
    messages = float(s["messages"]) if "messages" in s else 200000
    print(f"| {round} | broker CPU per raw message (publish + consume), µs | {a / messages * 1e6:.0f} | {b / messages * 1e6:.0f} | {b / a:.2f} |")
    s, c = load(f"single-fanout-{round}.json"), load(f"cluster-fanout-{round}.json")
    a, b = float(s["envelopes_per_second"]), float(c["envelopes_per_second"])
    print(f"| {round} | fan-out, {int(s['users']):,} users × 2 devices, envelopes/s | {a:,.0f} | {b:,.0f} | {b / a:.2f} |")
    envelopes = float(s["envelopes_expected"])
    a, b = ticks(f"single-fanout-ticks-{round}"), ticks(f"cluster-fanout-ticks-{round}")
    print(f"| {round} | broker CPU per envelope in the fan-out, µs | {a / envelopes * 1e6:.0f} | {b / envelopes * 1e6:.0f} | {b / a:.2f} |")
