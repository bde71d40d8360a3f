#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# Writes docs/BENCHMARKS.md and build/bench/results.json from the tables
# that bench/run-bench.sh collected.  Called by run-bench.sh:
#   report.py RESULTS.tsv CP.tsv MD JSON REPEATS WINDOW N1M GEN_CPU DUT_CPU MICRO_MD

import datetime
import json
import math
import os
import platform
import sys

(results_tsv, cp_tsv, md_path, json_path, repeats, window, n1m, gen_cpu,
 dut_cpu, micro_md) = sys.argv[1:11]


def num(s):
    try:
        v = float(s)
        return None if math.isnan(v) else v
    except ValueError:
        return None


rows = []
with open(results_tsv) as f:
    for line in f:
        p = line.rstrip('\n').split('\t')
        if len(p) < 5:
            continue
        rows.append({'id': p[0], 'label': p[1], 'mpps': num(p[2]),
                     'offered_mpps': num(p[3]), 'note': p[4].strip()})
cp = []
with open(cp_tsv) as f:
    for line in f:
        p = line.rstrip('\n').split('\t')
        if len(p) >= 4:
            cp.append({'key': p[0], 'value': num(p[1]), 'unit': p[2], 'note': p[3]})

by_id = {r['id']: r for r in rows}
base = by_id.get('s1', {}).get('mpps')
for r in rows:
    r['ratio_to_s1'] = (r['mpps'] / base) if (r['mpps'] is not None and base) else None

cpu_model = '?'
with open('/proc/cpuinfo') as f:
    for line in f:
        if line.startswith('model name'):
            cpu_model = line.split(':', 1)[1].strip()
            break
mem_kib = '?'
with open('/proc/meminfo') as f:
    for line in f:
        if line.startswith('MemTotal'):
            mem_kib = line.split()[1]
machine = {
    'nproc': os.cpu_count(),
    'cpu_model': cpu_model,
    'mem_gib': round(int(mem_kib) / 1048576, 1) if mem_kib != '?' else None,
    'kernel': platform.release(),
    'date_utc': datetime.datetime.utcnow().strftime('%Y-%m-%d %H:%M UTC'),
    'generator_cpu': int(gen_cpu),
    'dut_cpu': int(dut_cpu),
    'repeats': int(repeats),
    'window_s': float(window),
}


def mpps(i):
    return by_id.get(i, {}).get('mpps')


def ratio(a, b):
    x, y = mpps(a), mpps(b)
    return (x / y) if (x is not None and y) else None


def cpv(key):
    for c in cp:
        if c['key'] == key:
            return c['value']
    return None


n1m = int(n1m)
targets = []


def target(name, value, goal, cmp, unit='x'):
    if value is None:
        status = 'not measured'
    else:
        ok = value >= goal if cmp == '>=' else value < goal
        status = 'met' if ok else 'NOT met'
    targets.append({'target': name, 'goal': f'{cmp} {goal}{unit}',
                    'measured': None if value is None else round(value, 3),
                    'unit': unit, 'status': status})


target('portknock closed port / bare XDP (3 vs 1)', ratio('s3', 's1'), 0.9, '>=')
target('statefulfw 1 flow / bare XDP (4 vs 1)', ratio('s4_1', 's1'), 0.9, '>=')
target('xfsm empty app / nft netdev drop (2 vs 6a)', ratio('s2', 's6a'), 3, '>=')
target('xfsm portknock / nft port knocking (3 vs 6b)', ratio('s3', 's6b'), 3, '>=')
for n in (1, 10000, n1m):
    target(f'xfsm statefulfw / nft conntrack, {n} flows (4 vs 6c)',
           ratio(f's4_{n}', f's6c_{n}'), 3, '>=')
target('xfsm ACL / nft ACL (5 vs 6d)', ratio('s5', 's6d'), 3, '>=')
target(f'statefulfw {n1m} flows / 1 flow', ratio(f's4_{n1m}', 's4_1'), 0.5, '>=')
target('(reference) statefulfw pass->drop, 1 flow / bare XDP (4d vs 1)', ratio('s4d_1', 's1'), 0.9, '>=')
target(f'(reference) statefulfw pass->drop, {n1m} / 1 flow', ratio(f's4d_{n1m}', 's4d_1'), 0.5, '>=')
target('apply 100k rules (libxfsm image)', cpv('apply_100k_rules_s'), 1, '<', ' s')
target('apply 65536 rules (.xfsm, xfsmctl)', cpv('apply_64k_rules_xfsmctl_s'), 1, '<', ' s')
nfl = cpv('flows_in_table')
target(f"list {int(nfl) if nfl else '?'} flows (xfsmctl, text)", cpv('list_flows_s'), 2, '<', ' s')

# The micro benchmark's Markdown table (bench/micro.c), parsed for its
# issue-2 targets: parser 1.3x of the empty program, port knocking hot flow
# 2.5x, 1M active flows 4x of the 1-flow case of the same construction.
micro = []
for line in micro_md.splitlines():
    p = [c.strip() for c in line.strip().strip('|').split('|')]
    if len(p) == 4 and p[0] not in ('case', '') and not p[0].startswith('-'):
        try:
            micro.append({'case': p[0], 'xfsm_ns': float(p[1]), 'empty_ns': float(p[2])})
        except ValueError:
            pass


def micro_ns(prefix):
    for m in micro:
        if m['case'].startswith(prefix):
            return m
    return None


mp, mk, m1, mm = (micro_ns('parser only'), micro_ns('port knocking, hot'),
                  micro_ns('1 active flow'), micro_ns('1000000 active flows'))
target('micro: parser only / empty XDP', mp and mp['xfsm_ns'] / mp['empty_ns'], 1.3, '<')
target('micro: port knocking hot flow / empty XDP', mk and mk['xfsm_ns'] / mk['empty_ns'], 2.5, '<')
target('micro: 1M active flows / 1 active flow', mm and m1 and mm['xfsm_ns'] / m1['xfsm_ns'], 4, '<')

doc = {'machine': machine, 'scenarios': rows, 'control_plane': cp,
       'targets': targets, 'micro': micro, 'micro_markdown': micro_md}
os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
with open(json_path, 'w') as f:
    json.dump(doc, f, indent=1)
    f.write('\n')


def fmt(v, d=2, suffix=''):
    return 'n/a' if v is None else f'{v:.{d}f}{suffix}'


out = []
w = out.append
w('# Benchmarks')
w('')
w('<!-- SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause) -->')
w('')
w('Generated by `make bench` (`bench/run-bench.sh`, `bench/report.py`); the same')
w('figures are in `build/bench/results.json`. Re-run `make bench` to refresh.')
w('')
w(f"- machine: {machine['nproc']} vCPUs, {machine['cpu_model']}, "
  f"{machine['mem_gib']} GiB (a shared VM: figures vary by 10-20% between runs)")
w(f"- kernel: {machine['kernel']}")
w(f"- date: {machine['date_utc']}")
w(f"- method: generator on CPU {gen_cpu}, device under test (threaded NAPI of its veth) "
  f"on CPU {dut_cpu}; {repeats} runs of a {window} s window each, median; 60-byte frames "
  "(64 on the wire)")
w('')
w('## Traffic scenarios')
w('')
w('Mpps = packets per second the device under test absorbed, by its own counter; '
  '"offered" = what the generator produced meanwhile (when both are equal, the '
  'generator, not the DUT, was the limit). Ratio = Mpps / scenario 1 of this run.')
w('')
w('| # | scenario | Mpps | ratio to 1 | offered Mpps | runs (Mpps) |')
w('|---|---|---:|---:|---:|---|')
for r in rows:
    note = r['note']
    w(f"| {r['id'][1:].split('_')[0]} | {r['label']} | {fmt(r['mpps'], 3)} | "
      f"{fmt(r['ratio_to_s1'], 2 if (r['ratio_to_s1'] or 1) >= 0.1 else 4, 'x')} | {fmt(r['offered_mpps'], 2)} | {note} |")
w('')
w('## Control plane and memory')
w('')
w('| measure | value | how |')
w('|---|---:|---|')
for c in cp:
    d = 0 if c['value'] is not None and c['value'] == int(c['value']) and c['value'] > 100 else 2
    w(f"| {c['key']} | {fmt(c['value'], d)} {c['unit']} | {c['note']} |")
w('')
w('## Targets (issue 6)')
w('')
w('| target | goal | measured | status |')
w('|---|---|---:|---|')
for t in targets:
    m = 'n/a' if t['measured'] is None else f"{t['measured']}{t['unit']}"
    w(f"| {t['target']} | {t['goal']} | {m} | {t['status']} |")
w('')
w('## Micro benchmark (`make bench-micro`, issue 2)')
w('')
w('ns per packet through `BPF_PROG_TEST_RUN` (repeat), no device involved, next to')
w('the empty XDP program measured in the same run (`bench/micro.c`):')
w('')
w(micro_md.strip() if micro_md.strip() else '(not run: `make bench BENCH_ARGS=--no-micro`)')
w('')
with open(os.path.join(os.path.dirname(os.path.abspath(__file__)), 'BENCHMARKS.tail.md')) as f:
    tail = f.read()
if tail.startswith('<!-- SPDX'):
    tail = tail.split('\n', 1)[1]
w(tail.rstrip('\n'))
w('')
with open(md_path, 'w') as f:
    f.write('\n'.join(out))
