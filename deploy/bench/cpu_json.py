"""Writes where the CPU went during one herald-load phase: cpu-PHASE.json in OUT.

usage: cpu_json.py PHASE OUT INGEST_TICKS DISPATCHER_TICKS BROKER_TICKS [DATABASE_TICKS]
The ticks are /proc/PID/stat's user + system time in 1/100 s during the phase (the database's is the
PostgreSQL server's, left out when 0: the SQLite store runs inside the services); herald-load's own
time is read from OUT/load-cpu-PHASE.txt, which bash's `time` wrote as "USER SYSTEM" seconds.
"""
import json
import sys

phase, out = sys.argv[1], sys.argv[2]
ingest, dispatcher, broker = map(int, sys.argv[3:6])
database = int(sys.argv[6]) if len(sys.argv) > 6 else 0
with open(f"{out}/load-cpu-{phase}.txt") as times:
    user, system = map(float, times.read().split()[-2:])
with open(f"{out}/cpu-{phase}.json", "w") as result:
    cpu = {"ingest": ingest / 100, "dispatcher": dispatcher / 100, "broker": broker / 100}
    if database:
        cpu["postgresql"] = database / 100
    cpu["herald-load"] = user + system
    json.dump(cpu, result)
