"""Prints the BENCHMARKS.md table from the files deploy/bench/run.sh wrote.

usage: table.py OUT ENGINE...   (OUT/broker.json and OUT/broker-64.json, and one folder OUT/ENGINE per store engine)
"""
import json, pathlib, platform, subprocess, sys

out = pathlib.Path(sys.argv[1])
engines = sys.argv[2:] or ["sqlite"]
names = {"sqlite": "SQLite", "postgres": "PostgreSQL"}

def load(path):
    return json.loads((out / path).read_text().strip().splitlines()[-1])
def mb(path):
    return int((out / path).read_text().strip()) / 1024
def latency(l):
    return f"p50 {l['p50']} · p90 {l['p90']} · p99 {l['p99']} · p99.9 {l['p999']} ms"
def accounting(run):
    e = run["envelopes"]
    errors = ", ".join(f"{k}: {v}" for k, v in sorted(run["errors"].items())) or "none"
    return f"lost {e['lost']}, unexpected {e['unexpected']}, duplicates {e['duplicates']}; errors {errors}"

broker = load("broker.json")
raw = float(broker["publish_per_second"])
cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
print()
print(f"machine: {cpu}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, {platform.system()} {platform.release()}")
print()
print(f"raw broker: confirmed persistent publish, quorum queue, {broker['bytes']} B: {raw:,.0f} msg/s; "
      f"consume with acks {float(broker['consume_per_second']):,.0f} msg/s ({float(broker['consume_per_second']) / raw:.2f} of publish)")

raw64 = float(load("broker-64.json")["publish_per_second"])
print(f"raw broker, one message per publish, 64 in flight (as wrk's 64 connections): {raw64:,.0f} msg/s ({raw64 / raw:.2f} of raw)")

rows = {}   # figure -> {engine: cell}
def put(figure, engine, cell):
    rows.setdefault(figure, {})[engine] = cell
peaks = {}
for engine in engines:
    for name, label in [("peak", "peak, 64 senders (closed)"), ("half", "half of peak (open)"), ("e2e", "fixed rate (open)")]:
        run = load(f"{engine}/run-{name}.json")
        rate = run["acceptedPerSecond"]
        if name == "peak":
            peaks[engine] = rate
        put(f"ingest accepted, {label}", engine, f"{rate:,.0f} sends/s ({rate / raw:.2f} of raw; {run['model']})")
        put(f"ingest HTTP latency, {label}", engine, latency(run["httpLatency"]))
        env = run["envelopes"]
        put(f"end to end, {label}", engine,
            f"{env['perSecond']:,.0f} envelopes/s ({env['perSecond'] / raw:.2f} of raw), {env['received']:,} of {env['expected']:,} ({accounting(run)})")
        put(f"accept-to-envelope latency, {label}", engine, latency(run["endToEndLatency"]))
        used = load(f"{engine}/cpu-{name}.json")
        per = {k: v / max(1, run["accepted"]) * 1000 for k, v in used.items()}
        put(f"CPU ms per accepted send, {label}", engine, ", ".join(f"{k} {v:.2f}" for k, v in per.items())
            + f" (of {run['seconds']:.0f} s × 2 cores: " + ", ".join(f"{k} {v / run['seconds'] / 2:.0%}" for k, v in used.items()) + ")")
    # Ingest alone under wrk (64 connections, dispatcher stopped), against the raw publish rate.
    wrk = (out / f"{engine}/wrk.txt").read_text()
    def wrk_figure(label):
        line = next((l for l in wrk.splitlines() if l.strip().startswith(label)), "")
        return line.split()[-1] if line else ""
    done = int(next(l.split()[0] for l in wrk.splitlines() if "requests in" in l))
    refused = int(wrk_figure("Non-2xx or 3xx responses:") or 0)
    alone = float(wrk_figure("Requests/sec:"))
    ticks = int((out / f"{engine}/wrk-ingest-ticks").read_text())
    accepted = alone * (done - refused) / max(1, done)   # wrk's rate counts every answer; only 202s count here
    put("ingest alone (wrk, 64 connections, device sends): accepted", engine,
        f"{accepted:,.0f} sends/s (**{accepted / raw:.2f} of raw**; {accepted / raw64:.2f} of raw at 64 in flight; "
        f"{refused} not 202); HTTP p50 {wrk_figure('50%')} · p99 {wrk_figure('99%')}")
    put("ingest alone: CPU ms per send", engine, f"{ticks * 10 / max(1, done - refused):.3f}")
    put("ingest peak resident memory", engine, f"{mb(f'{engine}/ingest-peak-kb'):.0f} MB")
    # Three fan-outs (the first right after seeding the group, the others on it as it is); the
    # median, against the broker's ceiling measured just before them and the one at the start.
    runs = sorted((load(f"{engine}/fanout-{n}.json") for n in (1, 2, 3)), key=lambda f: float(f["envelopes_per_second"]))
    fanout = runs[1]
    rate = float(fanout["envelopes_per_second"])
    raw_now = float(load(f"{engine}/broker-now.json")["publish_per_second"])
    put(f"fan-out: {int(fanout['users']):,} users × 2 devices, one send (median of 3)", engine,
        f"{rate:,.0f} envelopes/s (**{rate / raw_now:.2f} of raw beside it**, {raw_now:,.0f} msg/s; {rate / raw:.2f} of the raw at the start); "
        + "runs " + ", ".join(f"{float(f['envelopes_per_second']):,.0f}" for f in runs) + "/s; "
        + ", ".join(f"{f['envelopes_on_queues']} of {f['envelopes_expected']}" for f in runs) + " on the queues")
    put(f"expand the nested group ({int(fanout['users']):,} users)", engine, f"{float(fanout['expand_seconds']) * 1000:.0f} ms")
    put("dispatcher peak resident memory", engine, f"{mb(f'{engine}/dispatcher-peak-kb'):.0f} MB")

print()
print("| figure | " + " | ".join(names.get(e, e) for e in engines) + " |")
print("|---|" + "---|" * len(engines))
for figure, cells in rows.items():
    print(f"| {figure} | " + " | ".join(cells.get(e, "") for e in engines) + " |")
if "sqlite" in peaks and "postgres" in peaks:
    print()
    print(f"PostgreSQL's peak accepted sends/s ÷ SQLite's: **{peaks['postgres'] / max(1, peaks['sqlite']):.2f}**")
