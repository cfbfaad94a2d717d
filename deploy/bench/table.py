"""Prints the BENCHMARKS.md table from the files deploy/bench/run.sh wrote."""
import json, pathlib, platform, re, subprocess, sys

out = pathlib.Path(sys.argv[1])
broker = json.loads((out / "broker.json").read_text().strip().splitlines()[-1])
fanout = json.loads((out / "fanout.json").read_text().strip().splitlines()[-1])
raw = float(broker["publish_per_second"])

def wrk(name):
    text = (out / name).read_text()
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    lat = {p: m for p, m in re.findall(r"^\s+(50|90|99)%\s+(\S+)", text, re.M)}
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", text)
    errors = re.search(r"Socket errors: (.*)", text)
    return rate, lat, int(non2xx.group(1)) if non2xx else 0, errors.group(1) if errors else "none"

def mb(name):
    return int((out / name).read_text().strip()) / 1024

cpu = subprocess.run(["sh", "-c", "grep -m1 'model name' /proc/cpuinfo | cut -d: -f2"], capture_output=True, text=True).stdout.strip()
print()
print(f"machine: {cpu}, {subprocess.run(['nproc'], capture_output=True, text=True).stdout.strip()} cores, {platform.system()} {platform.release()}")
print()
print("| figure | value | ratio to raw publish |")
print("|---|---|---|")
print(f"| raw broker: confirmed persistent publish, quorum queue, {broker['bytes']} B | {raw:,.0f} msg/s | 1.00 |")
print(f"| raw broker: consume with acks | {float(broker['consume_per_second']):,.0f} msg/s | {float(broker['consume_per_second']) / raw:.2f} |")
for name, label in [("wrk-64.txt", "64 connections"), ("wrk-4.txt", "4 connections")]:
    rate, lat, non2xx, errors = wrk(name)
    print(f"| ingest accepted, {label} | {rate:,.0f} req/s (non-202: {non2xx}, socket errors: {errors}) | {rate / raw:.2f} |")
    print(f"| ingest latency, {label} | p50 {lat.get('50')}, p90 {lat.get('90')}, p99 {lat.get('99')} | |")
print(f"| ingest peak resident memory | {mb('ingest-peak-kb'):.0f} MB | |")
rate = float(fanout["envelopes_per_second"])
print(f"| fan-out: {int(fanout['users']):,} users × 2 devices, one send | {rate:,.0f} envelopes/s ({fanout['fanout_seconds']} s, {fanout['envelopes_on_queues']} of {fanout['envelopes_expected']} on the queues) | {rate / raw:.2f} |")
print(f"| expand the nested group ({int(fanout['users']):,} users) | {float(fanout['expand_seconds']) * 1000:.0f} ms | |")
print(f"| dispatcher peak resident memory | {mb('dispatcher-peak-kb'):.0f} MB | |")
