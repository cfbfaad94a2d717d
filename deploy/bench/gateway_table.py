"""The table of BENCHMARKS.md's gateway run, from the files make bench-gateway wrote."""
import json, os, sys

out, pushes, waiting = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
hz = os.sysconf("SC_CLK_TCK")


def rate(name):
    stats = json.load(open(f"{out}/{name}-stats.json"))
    accepted = sum(stats["accepted"].values())
    seconds = stats["lastAcceptedAt"] - stats["firstAcceptedAt"]
    return accepted, (accepted - 1) / seconds if seconds > 0 else 0.0, stats


def cpu_ms_per_push(name, who, accepted):
    cpu = json.load(open(f"{out}/{name}-cpu.json"))
    ms = cpu["children_ms"] if who == "h2load" else 1000.0 * cpu[f"{who}_ticks"] / hz
    return ms / accepted if accepted else 0.0


rows = [("h2load-1x64", "h2load, 1 connection x 64 streams"), ("h2load-2x32", "h2load, 2 connections x 32 streams, 2 threads"),
        ("gateway-ios", f"herald-gateway, {pushes:,} iOS envelopes waiting"), ("waiting", f"herald-gateway, {waiting:,} envelopes (both platforms) waiting")]
best = max(rate(r)[1] for r in ("h2load-1x64", "h2load-2x32"))
print("| client | pushes accepted | pushes/s | ratio to best h2load | client CPU ms/push | stand-in CPU ms/push | broker CPU ms/push |")
print("|---|---|---|---|---|---|---|")
for name, label in rows:
    accepted, per_second, stats = rate(name)
    gateway = name.startswith(("gateway", "waiting"))
    client = cpu_ms_per_push(name, "gateway" if gateway else "h2load", accepted)
    broker = f"{cpu_ms_per_push(name, 'broker', accepted):.3f}" if gateway else "-"
    print(f"| {label} | {accepted:,} | {per_second:,.0f} | {per_second / best:.2f} | {client:.3f} | {cpu_ms_per_push(name, 'sandbox', accepted):.3f} | {broker} |")
print()
print("client CPU: h2load's, or herald-gateway's from its start (reading the envelopes off the broker and the ledger included);")
print("broker CPU: the node's during the drain (herald-load published the envelopes before it).")
memory = json.load(open(f"{out}/waiting-memory.json"))
print()
print(f"herald-gateway peak RSS (VmHWM) with {waiting:,} envelopes waiting: {memory['vmhwm_kib'] / 1024:.1f} MB "
      f"(RSS once drained {memory['vmrss_kib'] / 1024:.1f} MB); with {pushes:,} waiting: "
      f"{json.load(open(f'{out}/gateway-ios-memory.json'))['vmhwm_kib'] / 1024:.1f} MB")
