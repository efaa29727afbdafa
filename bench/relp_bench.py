#!/usr/bin/env python3
"""rsyslogd -> eventsift daemon: N Winlogbeat events over relp (omrelp) or
plain syslog (omfwd, octet-counted); prints the wall time until every event
was decoded and the daemon's and rsyslogd's CPU seconds (utime + stime from
/proc). Needs rsyslogd and rsyslog-relp (scripts/setup.sh).

    bench/relp_bench.py build/release/bin/eventsift 50000 relp syslog
"""

import json
import os
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import relp_e2e_test as rx  # noqa: E402
import syslog_e2e_test as sx  # noqa: E402


def cpu_seconds(pid):
    fields = open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def main():
    binary, n, kinds = os.path.abspath(sys.argv[1]), int(sys.argv[2]), sys.argv[3:]
    sx.BINARY = rx.BINARY = binary
    template = json.loads(open(sx.WINLOGBEAT).readline())
    template["winlog"]["provider_name"] = template["event"]["provider"] = "Bench"  # no rule hits

    def line(i):
        template["winlog"]["record_id"] = i
        return json.dumps(template)

    for kind in kinds:
        with tempfile.TemporaryDirectory(prefix="es_relp_bench_") as d:
            port = sx.free_port()
            daemon = sx.Daemon(d, rx.relp_source(port) if kind == "relp" else sx.syslog_source(port))
            events = os.path.join(d, "events.log")
            with open(events, "w") as f:
                f.write("".join(line(i) + "\n" for i in range(1, n + 1)))
            c0, t0 = cpu_seconds(daemon.p.pid), time.time()
            if kind == "relp":
                rs, log = rx.start_rsyslog(d, events, port)
            else:
                conf = os.path.join(d, "rs.conf")
                os.mkdir(os.path.join(d, "rs"))
                with open(conf, "w") as f:
                    f.write(f'global(workDirectory="{d}/rs" maxMessageSize="64k")\n'
                            'module(load="imfile")\n'
                            f'input(type="imfile" File="{events}" Tag="w" ruleset="f")\n'
                            f'ruleset(name="f") {{ action(type="omfwd" target="127.0.0.1" port="{port}" '
                            'protocol="tcp" TCP_Framing="octet-counted" '
                            'template="RSYSLOG_SyslogProtocol23Format") }\n')
                log = open(os.path.join(d, "rsyslog.out"), "wb")
                rs = subprocess.Popen([sx.RSYSLOGD, "-n", "-f", conf, "-i", f"{d}/rs.pid"],
                                      stdout=log, stderr=subprocess.STDOUT)
            ok = daemon.wait_metric("eventsift_source_events_total", n, timeout=300)
            wall, cpu = time.time() - t0, cpu_seconds(daemon.p.pid) - c0
            print(f"{kind}: {n} events, all arrived: {ok}; wall {wall:.2f} s ({n / wall:,.0f}/s); "
                  f"daemon CPU {cpu:.2f} s ({cpu / n * 1e6:.1f} us/event); "
                  f"rsyslogd CPU {cpu_seconds(rs.pid):.2f} s", flush=True)
            rx.stop_rsyslog(rs, log)
            daemon.stop()


if __name__ == "__main__":
    main()
