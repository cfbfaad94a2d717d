"""Prints the BENCHMARKS.md table from the files deploy/bench/run.sh wrote."""
import json, pathlib, platform, subprocess, sys

out = pathlib.Path(sys.argv[1])
def load(name):
    return json.loads((out / name).read_text().strip().splitlines()[-1])
def mb(name):
    return int((out / name).read_text().strip()) / 1024
def latency(l):
    return f"p50 {l['p50']} · p90 {l['p90']} · p99 {l['p99']} · p99.9 {l['p999']} ms"
def accounting(run):
    e = run["envelopes"]
    errors = ", ".join(f"{k}: {v}" for k, v in sorted(run["errors"].items())) or "none"
    return f"lost {e['lost']}, unexpected {e['unexpected']}, duplicates {e['duplicates']}; errors {errors}"

broker, fanout = load("broker.json"), load("fanout.json")
raw = float(broker["publish_per_second"])
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
print()
print(f"machine: {cpu}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, {platform.system()} {platform.release()}")
print()
print("| figure | value | ratio to raw publish |")
print("|---|---|---|")
print(f"| raw broker: confirmed persistent publish, quorum queue, {broker['bytes']} B | {raw:,.0f} msg/s | 1.00 |")
print(f"| raw broker: consume with acks | {float(broker['consume_per_second']):,.0f} msg/s | {float(broker['consume_per_second']) / raw:.2f} |")
for name, label in [("run-peak.json", "peak, 64 senders (closed)"), ("run-half.json", "half of peak (open)"), ("run-e2e.json", "fixed rate (open)")]:
    run = load(name)
    rate = run["acceptedPerSecond"]
    print(f"| ingest accepted, {label}: {run['model']} | {rate:,.0f} sends/s | {rate / raw:.2f} |")
    print(f"| ingest HTTP latency, {label} | {latency(run['httpLatency'])} | |")
    env = run["envelopes"]
    print(f"| end to end, {label} | {env['perSecond']:,.0f} envelopes/s, {env['received']:,} of {env['expected']:,} ({accounting(run)}) | {env['perSecond'] / raw:.2f} |")
    print(f"| accept-to-envelope latency, {label} | {latency(run['endToEndLatency'])} | |")
    cpu = load("cpu-" + name[len("run-"):])
    per = {k: v / max(1, run["accepted"]) * 1000 for k, v in cpu.items()}
    print(f"| CPU ms per accepted send, {label} | " + ", ".join(f"{k} {v:.2f}" for k, v in per.items())
          + f" (of {run['seconds']:.0f} s × 2 cores: " + ", ".join(f"{k} {v / run['seconds'] / 2:.0%}" for k, v in cpu.items()) + ") | |")
print(f"| ingest peak resident memory | {mb('ingest-peak-kb'):.0f} MB | |")
rate = float(fanout["envelopes_per_second"])
print(f"| fan-out: {int(fanout['users']):,} users × 2 devices, one send | {rate:,.0f} envelopes/s ({fanout['fanout_seconds']} s, {fanout['envelopes_on_queues']} of {fanout['envelopes_expected']} on the queues) | {rate / raw:.2f} |")
print(f"| expand the nested group ({int(fanout['users']):,} users) | {float(fanout['expand_seconds']) * 1000:.0f} ms | |")
print(f"| dispatcher peak resident memory | {mb('dispatcher-peak-kb'):.0f} MB | |")
