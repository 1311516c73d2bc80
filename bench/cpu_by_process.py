#!/usr/bin/env python3
"""Where the host's CPU goes over SECONDS, by process kind (PostgreSQL processes by role; the CPU
of PostgreSQL children that exited meanwhile, such as autovacuum workers and backends, is counted
from the postmasters' child times). Used by bench/density.sh; runs on its own too.

    bench/cpu_by_process.py [SECONDS]
"""
import os, time, collections, sys
def snap():
    d = {}
    for pid in os.listdir('/proc'):
        if not pid.isdigit(): continue
        try:
            st = open(f'/proc/{pid}/stat').read()
            cmd = open(f'/proc/{pid}/cmdline','rb').read().replace(b'\0',b' ').decode(errors='replace').strip()
        except Exception: continue
        f = st[st.rindex(')')+2:].split()
        ut, stt, cut, cst = int(f[11]), int(f[12]), int(f[13]), int(f[14])
        d[pid] = (cmd or st[st.index('(')+1:st.rindex(')')], ut+stt, cut+cst)
    return d
def group(cmd):
    if cmd.startswith('postgres: '):
        parts = cmd.split(' ', 1)[1]
        for k in ['autovacuum launcher','autovacuum worker','checkpointer','background writer','walwriter','logical replication','archiver','stats']:
            if k in parts: return 'pg ' + k
        return 'pg backend'
    if cmd.startswith('postgres'): return 'pg postmaster (own)'
    return cmd.split(' ')[0].split('/')[-1][:40]
secs = float(sys.argv[1]) if len(sys.argv) > 1 else 20
a = snap(); t0 = os.times().elapsed; time.sleep(secs); b = snap()
own = collections.Counter(); child = collections.Counter()
for pid, (cmd, t, c) in b.items():
    g = group(cmd)
    ta, ca = (a[pid][1], a[pid][2]) if pid in a and a[pid][0] == cmd else (0, 0)
    own[g] += t - ta
    if g == 'pg postmaster (own)': child['pg postmaster children (exited)'] += c - ca
tck = os.sysconf('SC_CLK_TCK')
tot = sum(own.values()) + sum(child.values())
print(f'over {secs}s: total {tot/tck/secs*100:.1f}% of one CPU')
for g, v in (own + child).most_common(15):
    print(f'  {v/tck/secs*100:6.2f}%  {g}')
