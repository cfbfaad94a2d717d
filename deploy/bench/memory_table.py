"""The table of BENCHMARKS.md's 1,000,000-user fan-out, from the JSON files make bench-memory wrote."""
import json, sys
out = sys.argv[1]
raw = float(json.load(open(f"{out}/broker.json"))["publish_per_second"])
volume = json.load(open(f"{out}/broker-volume.json"))
at_volume = float(volume["publish_per_second"])
print(f"| run | envelopes | fan-out s | envelopes/s | ratio to raw 200k ({raw:,.0f}/s) | ratio to raw {int(volume['messages']):,} ({at_volume:,.0f}/s) | dispatcher peak RSS |")
print("|---|---|---|---|---|---|---|")
for name in ("fanout-1", "fanout-2"):
    r = json.load(open(f"{out}/{name}.json"))
    eps = float(r["envelopes_per_second"])
    print(f"| {r['sends']} send(s) x {int(r['users']):,} users | {int(r['envelopes_on_queues']):,} of {int(r['envelopes_expected']):,} "
          f"| {r['fanout_seconds']} | {eps:,.0f} | {eps / raw:.2f} | {eps / at_volume:.2f} | {r['dispatcher_peak_rss_mb']} MB |")
