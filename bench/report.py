#!/usr/bin/env python3
# SPDX-License-Identifier: (GPL-2.0 OR BSD-2-Clause)
#
# Writes docs/BENCHMARKS.md and build/bench/results.json from the tables
# that bench/run-bench.sh collected.  Called by run-bench.sh:
#   report.py RESULTS.tsv CP.tsv MD JSON REPEATS WINDOW N1M GEN_CPU DUT_CPU
#             MICRO_MD MICRO_JSON RT STATS_WINDOW [PDR_LOSS [ENGINE [PAIR_REPEATS]]]

import datetime
import json
import math
import os
import platform
import sys

(results_tsv, cp_tsv, md_path, json_path, repeats, window, n1m, gen_cpu,
 dut_cpu, micro_md, micro_json, rt, stats_window) = sys.argv[1:14]
pdr_loss = float(sys.argv[14]) if len(sys.argv) > 14 else 0.005
pdr_pct = f'{100 * pdr_loss:g}'
# The generator's engine (bench/pktgen.c).  Under the packet engine (the
# kernel refuses live frames, and no loop was given) the generator offers
# about 1 Mpps as skbs, which the DUT's veth copies into XDP frames: the
# DUT's CPU goes to that copy, not to the program, so the rates of two
# programs say little about the programs and their ratios are not held
# against a target.  The live and loop engines hand the DUT XDP frames.
# The program's own ns (bpf_stats) are judged under every engine.
engine = sys.argv[15] if len(sys.argv) > 15 else 'live'
pair_repeats = int(sys.argv[16]) if len(sys.argv) > 16 else int(repeats)
PACKET_ENGINE = ('not comparable: packet engine (the kernel refuses live frames; '
                 'the DUT spends its CPU on the veth\'s skb path)')
# A rate compares programs only where the DUT was the limit: its NAPI
# thread busy this much or more in the runs of every side compared.
DUT_BOUND_PCT = 90


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
        p += ['nan'] * (8 - len(p))
        rows.append({'id': p[0], 'label': p[1], 'mpps': num(p[2]),
                     'offered_mpps': num(p[3]), 'note': p[4].strip(),
                     'prog_ns': num(p[5]), 'dut_cpu_pct': num(p[6]),
                     'napi_pct': num(p[7])})
cp = []
with open(cp_tsv) as f:
    for line in f:
        p = line.rstrip('\n').split('\t')
        if len(p) >= 4:
            cp.append({'key': p[0], 'value': num(p[1]), 'unit': p[2], 'note': p[3]})
try:
    with open(micro_json) as f:
        micro = json.load(f)
except (OSError, ValueError):
    micro = {}

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
    'date_utc': datetime.datetime.now(datetime.timezone.utc).strftime('%Y-%m-%d %H:%M UTC'),
    # 1, 5 and 15 minutes as the report is written: the 15-minute figure
    # spans most of a run and tells a quiet machine from a shared one.
    'loadavg': [float(x) for x in open('/proc/loadavg').read().split()[:3]],
    'generator_cpu': int(gen_cpu),
    'dut_cpu': int(dut_cpu),
    'repeats': int(repeats),
    'pair_repeats': pair_repeats,
    'window_s': float(window),
    'stats_window_s': float(stats_window),
    'realtime': rt == '1',
    'generator_engine': engine,
}


def mpps(i):
    return by_id.get(i, {}).get('mpps')


def field(i, k):
    return by_id.get(i, {}).get(k)


def rates_unjudged(*ids):
    """Why the rates of scenarios `ids` (and their partial drop rates) say
    nothing about a target, or None: under the packet engine never, else
    where the generator, not the DUT, was the limit in any of them (a DUT
    that keeps up absorbs what it is offered, whatever its program; its
    partial drop rate, below that, cannot be found either)."""
    if engine == 'packet':
        return PACKET_ENGINE
    busy = [field(i, 'napi_pct') for i in ids]
    if any(b is None for b in busy):
        return None
    if min(busy) < DUT_BOUND_PCT:
        return (f"not comparable: the generator was the limit (the DUT's NAPI thread "
                f"{' / '.join(f'{b:.0f}%' for b in busy)} busy, under {DUT_BOUND_PCT}%)")
    return None


def napi_ns(i):
    """The DUT's NAPI thread time per packet absorbed in scenario `i`, ns
    (its busy share of the window over the rate): what the rate at
    saturation would be the inverse of, also where the generator was the
    limit.  Projected, not measured at saturation."""
    x, b = mpps(i), field(i, 'napi_pct')
    return (b * 10 / x) if (x and b is not None) else None


def ratio(a, b):
    x, y = mpps(a), mpps(b)
    return (x / y) if (x is not None and y) else None


def div(x, y):
    return (x / y) if (x is not None and y) else None


def cpv(key):
    for c in cp:
        if c['key'] == key:
            return c['value']
    return None


def fmt(v, d=2, suffix=''):
    return 'n/a' if v is None else f'{v:.{d}f}{suffix}'


n1m = int(n1m)
micro_jobs = {j['job']: j for j in micro.get('jobs', [])}
micro_scale = {s['case']: s for s in micro.get('scaling', [])}

# ---- Headline: each job next to its reference -------------------------------
# (micro job key, veth scenario id, label)
JOBS = [
    ('empty', 's2', 'empty application (no stage, default drop)'),
    ('portknock_closed', 's3', 'port knocking, closed port'),
    ('portknock_open', 's3o', 'port knocking, opened source (passes to the stack)'),
    ('statefulfw_1', 's4_1', 'stateful firewall, 1 flow (passes to the stack; veth: compact flow values)'),
    (None, 's4_10000', 'stateful firewall, 10000 flows (passes to the stack; compact flow values)'),
    ('statefulfw_1m', f's4_{n1m}', f'stateful firewall, {n1m} flows (passes to the stack; veth: compact flow values)'),
    ('counter', 's7', 'per-source counter'),
    ('global', 's8', 'global register'),
    ('twostage_1', None, '2 stages, 1 active flow'),
    (None, 's9', '2 stages, 16 active flows'),
    ('twostage_10k', None, '2 stages, 10000 active flows'),
    ('twostage_1m', None, '2 stages, 1000000 active flows'),
]
# Diagnostic rows, not targets: xfsm against the reference that also keeps
# xfsm's statistics (bench/ref/xstats.h: keep_stats=1 as xfsm lays them
# out, =2 in one block), which tells what the statistics cost on the veth
# from what the rest of xfsm costs.
STATS_JOBS = [
    ('s7s', "per-source counter, against the reference keeping xfsm's statistics"),
    ('s8s', "global register, against the reference keeping xfsm's statistics"),
    ('s8b', "global register, against the reference keeping xfsm's statistics in one block"),
    (f's4f_{n1m}', f'stateful firewall, {n1m} flows, full flow values (the default layout; '
     'scenario 4 runs compact ones)'),
]


def veth_fields(h, vid):
    """The veth figures of scenario `vid`: ID is the default datapath
    (specialized where it could be), IDg the generic datapath, IDr the
    reference, IDa the reference again (the A/A pair), IDp / IDrp / IDap
    their partial drop rates."""
    h.update(veth_xfsm_ns=field(vid, 'prog_ns'), veth_ref_ns=field(vid + 'r', 'prog_ns'),
             veth_ns_ratio=div(field(vid, 'prog_ns'), field(vid + 'r', 'prog_ns')),
             veth_xfsm_mpps=mpps(vid), veth_ref_mpps=mpps(vid + 'r'),
             veth_rate_ratio=ratio(vid, vid + 'r'),
             veth_generic_ns=field(vid + 'g', 'prog_ns'), veth_generic_mpps=mpps(vid + 'g'),
             veth_generic_ns_ratio=div(field(vid + 'g', 'prog_ns'), field(vid + 'r', 'prog_ns')),
             veth_generic_rate_ratio=ratio(vid + 'g', vid + 'r'),
             napi_xfsm_pct=field(vid, 'napi_pct'), napi_ref_pct=field(vid + 'r', 'napi_pct'),
             veth_pdr_xfsm_mpps=mpps(vid + 'p'), veth_pdr_ref_mpps=mpps(vid + 'rp'),
             veth_pdr_ratio=ratio(vid + 'p', vid + 'rp'),
             veth_unjudged=rates_unjudged(vid, vid + 'r'),
             veth_aa_ns_ratio=div(field(vid + 'a', 'prog_ns'), field(vid + 'r', 'prog_ns')),
             veth_aa_rate_ratio=ratio(vid + 'a', vid + 'r'),
             veth_aa_pdr_ratio=ratio(vid + 'ap', vid + 'rp'),
             veth_aa_unjudged=rates_unjudged(vid + 'a', vid + 'r'),
             napi_ns_xfsm=napi_ns(vid), napi_ns_ref=napi_ns(vid + 'r'),
             napi_capacity_ratio=div(napi_ns(vid + 'r'), napi_ns(vid)),
             napi_aa_capacity_ratio=div(napi_ns(vid + 'r'), napi_ns(vid + 'a')))


# The test-run overhead: the empty reference (`return XDP_DROP`) through
# BPF_PROG_TEST_RUN, in every job's figure on both sides.  It was about
# 5 ns on the kernels of the first runs and about 36 on 6.18.44-fc-v1300:
# a fixed amount in both sides pulls every ratio towards 1, so the ratios
# the targets judge are net of it, (xfsm - o) / (reference - o), o the
# overhead (for a job behind a flow driver, the driver's own cost too,
# which bench/micro.c measures without the overhead).  The empty job,
# whose reference is the overhead, is judged by its gross ratio.
tr_overhead = (micro_jobs.get('empty') or {}).get('ref_ns')
# Below this many ns past the overhead a reference's own cost is within
# the spread of the test run from run to run (1-2 ns on this VM): a net
# ratio over it says nothing, and the job is judged by its gross ratio.
TR_RESOLUTION = 4


def net_ratio(m, x):
    """x (an xfsm side's ns) over the reference's, both net of the test-run
    overhead; None where that leaves the reference nothing."""
    if x is None or m.get('ref_ns') is None or tr_overhead is None:
        return None
    base = tr_overhead + (m.get('driver_ns') or 0)
    if m['ref_ns'] - base < TR_RESOLUTION:
        return None
    return div(x - base, m['ref_ns'] - base)


headline = []
for mk, vid, label in JOBS:
    m = micro_jobs.get(mk) if mk else None
    h = {'job': label, 'micro_job': mk, 'veth_id': vid}
    # micro: xfsm_ns is the generic datapath, spec_ns the program generated
    # for the job (0: the specializer refused it); test_run_ratio is the
    # datapath xfsm runs by default (--datapath auto).
    if m:
        spec = m.get('spec_ns') or None
        h.update(test_run_xfsm_ns=m['xfsm_ns'], test_run_ref_ns=m['ref_ns'],
                 test_run_generic_ratio=m['ratio'], driver_ns=m.get('driver_ns', 0),
                 test_run_spec_ns=spec, test_run_spec_ratio=m.get('spec_ratio') if spec else None,
                 specialized=bool(spec))
        h['test_run_ratio'] = h['test_run_spec_ratio'] if spec else m['ratio']
        h['test_run_generic_net'] = net_ratio(m, m['xfsm_ns'])
        h['test_run_spec_net'] = net_ratio(m, spec) if spec else None
        h['test_run_net'] = h['test_run_spec_net'] if spec else h['test_run_generic_net']
    if vid and vid in by_id:
        veth_fields(h, vid)
    if len(h) > 3:
        headline.append(h)
diagnostic = []
for vid, label in STATS_JOBS:
    if vid in by_id:
        h = {'job': label, 'veth_id': vid}
        veth_fields(h, vid)
        diagnostic.append(h)

# ---- The A/A spread of the veth figures --------------------------------------
# Each pair on the veth has a third side, the reference again, loaded and
# measured as the reference is, in the same rounds (bench/run-bench.sh
# measure_pair): its ratio to the reference is what chance alone makes of
# two identical programs.  A figure's spread is the largest distance from
# 1 of that ratio over every pair of the run (rates and partial drop rates
# only where the A/A pair's own DUT was the limit): a ratio that misses a
# target by less says nothing about the programs.
def veth_spread(key, judged):
    xs = [(h['job'], h[key]) for h in headline + diagnostic
          if h.get(key) is not None and (not judged or not h.get('veth_aa_unjudged'))]
    if not xs:
        return None, ''
    sp = max(abs(1 - x) for _, x in xs)
    return sp, f'A/A spread ±{sp:.3f} (the widest of {len(xs)} pairs)'


veth_ns_spread, veth_ns_aa = veth_spread('veth_aa_ns_ratio', False)
veth_rate_spread, veth_rate_aa = veth_spread('veth_aa_rate_ratio', True)
veth_pdr_spread, veth_pdr_aa = veth_spread('veth_aa_pdr_ratio', True)
spreads = {'veth_ns': veth_ns_spread, 'veth_rate': veth_rate_spread, 'veth_pdr': veth_pdr_spread}


def aa_of(h, key, aa_note):
    """The note of a veth target: this pair's own A/A ratio, and the spread."""
    own = f"this job's A/A {fmt(h[key], 3, 'x')}" if h.get(key) is not None else ''
    return '; '.join(x for x in (own, aa_note) if x)


def rate_note(h):
    """The note of a rate target; where the generator was the limit, also
    the rate the DUT's NAPI time per packet projects (not judged)."""
    note = aa_of(h, 'veth_aa_rate_ratio', veth_rate_aa)
    if h.get('veth_unjudged') and h.get('napi_capacity_ratio') is not None:
        note = '; '.join(x for x in (note, (
            f"projected from the NAPI thread's time per packet (not judged): xfsm "
            f"{fmt(h['napi_ns_xfsm'], 0)} ns, reference {fmt(h['napi_ns_ref'], 0)} ns, "
            f"rate at saturation {fmt(h['napi_capacity_ratio'], 2, 'x')} "
            f"(A/A {fmt(h.get('napi_aa_capacity_ratio'), 2, 'x')})")) if x)
    return note


# ---- Targets ------------------------------------------------------------------
targets = []


def target(name, value, goal, cmp, unit='x', note='', spread=None, valid=True, unjudged=None):
    """One target row.  `note`: what to read it against (the reference's
    own figure, the A/A spread).  `spread`: for a ">=" or "<=" comparison
    with a noisy ratio, how far two identical programs measured in the
    same rounds lie apart: a miss by less than that is no evidence of a
    difference.  `unjudged`: why the measurement, shown, says nothing
    about the goal."""
    if value is None:
        status = 'not measured'
    elif unjudged:
        status = unjudged
    else:
        ok = {'>=': value >= goal, '<': value < goal, '<=': value <= goal}[cmp]
        status = 'met' if ok else 'NOT met'
        if not ok and spread is not None and cmp in ('>=', '<='):
            inside = value >= goal - spread if cmp == '>=' else value <= goal + spread
            status = ('met (inside the A/A spread: no measurable difference)'
                      if inside else 'NOT met (outside the A/A spread)')
        if not valid:
            status = f'invalid measurement ({status} as measured)'
    targets.append({'target': name, 'goal': f'{cmp} {goal}{unit}',
                    'measured': None if value is None else round(value, 3),
                    'unit': unit, 'status': status, 'note': note})


def tr_judged(h, net_key, gross_key):
    """The test-run ratio a target judges (net of the overhead where there
    is one, else gross) and the note saying which."""
    net, gross = h.get(net_key), h.get(gross_key)
    if net is None:
        if h.get('micro_job') == 'empty':
            return gross, f'gross (the reference is the test-run overhead, {fmt(tr_overhead, 1)} ns)'
        if tr_overhead is not None and h.get('test_run_ref_ns') is not None:
            own = h['test_run_ref_ns'] - tr_overhead - (h.get('driver_ns') or 0)
            return gross, (f"gross (the reference's own {fmt(own, 1)} ns past the "
                           f'{fmt(tr_overhead, 1)} ns test-run overhead are within the spread of the test run from run to run)')
        return gross, 'gross'

    driver = f' and the flow driver ({fmt(h.get("driver_ns"), 1)} ns)' if h.get('driver_ns') else ''
    return net, (f'net of the test-run overhead ({fmt(tr_overhead, 1)} ns){driver}; '
                 f'gross {fmt(gross, 2, "x")}' + (' (the driver taken off)' if driver else ''))


for h in headline:
    if 'test_run_ratio' in h:
        target(f"{h['job']}: xfsm / reference, ns per packet (BPF_PROG_TEST_RUN)",
               tr_judged(h, 'test_run_net', 'test_run_ratio')[0], 2.0, '<=',
               note=tr_judged(h, 'test_run_net', 'test_run_ratio')[1])
    if h.get('veth_ns_ratio') is not None:
        target(f"{h['job']}: xfsm / reference, the program's own ns per packet on the veth (bpf_stats)",
               h['veth_ns_ratio'], 2.0, '<=', spread=veth_ns_spread,
               note=aa_of(h, 'veth_aa_ns_ratio', veth_ns_aa))
    if h.get('veth_rate_ratio') is not None:
        target(f"{h['job']}: xfsm / reference, rate absorbed on the veth",
               h['veth_rate_ratio'], 0.7, '>=', unjudged=h.get('veth_unjudged'),
               spread=veth_rate_spread, note=rate_note(h))
    if h.get('veth_pdr_xfsm_mpps') is not None or h.get('veth_pdr_ref_mpps') is not None:
        target(f"{h['job']}: xfsm / reference, partial drop rate on the veth (loss <= {pdr_pct}%)",
               h.get('veth_pdr_ratio'), 0.7, '>=', unjudged=h.get('veth_unjudged'),
               spread=veth_pdr_spread, note=aa_of(h, 'veth_aa_pdr_ratio', veth_pdr_aa))

# Issue 17: the specialized program of each job it could generate, against
# 1.25x / 0.9x.  A job where the micro benchmark found no specialized
# program runs generic on the veth too: its target is not met.
targets17 = []
_t, targets = targets, targets17
for h in headline:
    spec = h.get('specialized')
    if 'test_run_ratio' in h:
        v, note = tr_judged(h, 'test_run_spec_net', 'test_run_spec_ratio')
        target(f"{h['job']}: specialized / reference, ns per packet (BPF_PROG_TEST_RUN)",
               v if spec else None, 1.25, '<=', note=note)
    if h.get('veth_ns_ratio') is not None and spec is not False:
        target(f"{h['job']}: specialized / reference, the program's own ns per packet on the veth (bpf_stats)",
               h['veth_ns_ratio'], 1.25, '<=', spread=veth_ns_spread,
               note=aa_of(h, 'veth_aa_ns_ratio', veth_ns_aa))
    if h.get('veth_rate_ratio') is not None and spec is not False:
        target(f"{h['job']}: specialized / reference, rate absorbed on the veth",
               h['veth_rate_ratio'], 0.9, '>=', unjudged=h.get('veth_unjudged'),
               spread=veth_rate_spread, note=rate_note(h))
    if (h.get('veth_pdr_xfsm_mpps') is not None or h.get('veth_pdr_ref_mpps') is not None) \
            and spec is not False:
        target(f"{h['job']}: specialized / reference, partial drop rate on the veth (loss <= {pdr_pct}%)",
               h.get('veth_pdr_ratio'), 0.9, '>=', unjudged=h.get('veth_unjudged'),
               spread=veth_pdr_spread, note=aa_of(h, 'veth_aa_pdr_ratio', veth_pdr_aa))
# Apply with generation and verification (bench/run-bench.sh cp_apply):
# the slowest example, and the 10,000-rule application.
ex = [c for c in cp if c['key'].startswith('apply_example_')]
ex_note = ', '.join(f"{c['key'][len('apply_example_'):-3]} "
                    + ('failed' if c['value'] is None else f"{c['value']:.0f} ms")
                    for c in sorted(ex, key=lambda c: -(c['value'] or 1e9)))
target('apply of each example application (auto), the slowest',
       None if not ex or any(c['value'] is None for c in ex) else max(c['value'] for c in ex),
       100, '<', ' ms', note=ex_note)
a10k = next((c for c in cp if c['key'] == 'apply_10k_rules_ms'), None)
target('apply of a 10,000-rule application (auto)', a10k and a10k['value'], 2000, '<', ' ms',
       note=(a10k['note'].split('; ', 1)[-1] if a10k else ''))
targets = _t
# The A/A spread of the scaling ratios (bench/micro.c): copies of the
# reference measured in the same rounds as the reference; the largest
# distance of any copy's scaling over the reference's from 1, over every
# case of the run.
aa = [x for c in micro.get('scaling', []) for x in (c.get('aa') or [])]
aa_spread = max(abs(1 - x) for x in aa) if aa else None
aa_note = ('' if aa_spread is None else
           f"A/A spread ±{aa_spread:.3f} (reference copies: "
           + ', '.join(f'{x:.3f}' for x in aa) + ')')
d = micro_scale.get('distinct')


def validity(c):
    """bench/micro.c measures a scaling case again while its two threads ran
    together less than 90% of the time; what it says when none did."""
    if c.get('valid') is False:
        return (f"; INVALID: the threads never ran together 90% of the time "
                f"in {c.get('attempts')} attempts")
    return '' if (c.get('attempts') or 1) == 1 else f"; attempt {c['attempts']}"


for side, what in (('xfsm', 'generic'), ('spec', 'specialized')):
    if d and d.get(f'{side}_1cpu'):
        target(f'distinct flows per CPU: {what} 2 CPUs / 1 CPU (BPF_PROG_TEST_RUN)',
               div(d[f'{side}_2cpu'], d[f'{side}_1cpu']), 1.8, '>=',
               note=f"reference {fmt(div(d['ref_2cpu'], d['ref_1cpu']), 3, 'x')}{validity(d)}",
               valid=d.get('valid') is not False)
    for key, name in (('shared_flow', 'one flow register on both CPUs'),
                      ('shared_global', 'one global register on both CPUs')):
        c = micro_scale.get(key)
        if c and c.get(f'{side}_1cpu'):
            xs, rs = div(c[f'{side}_2cpu'], c[f'{side}_1cpu']), div(c['ref_2cpu'], c['ref_1cpu'])
            target(f'{name}: {what} scaling / reference scaling (no worse than the reference)',
                   div(xs, rs), 1.0, '>=', spread=aa_spread,
                   note=f"{what} {fmt(xs, 3, 'x')}, reference {fmt(rs, 3, 'x')}; {aa_note}{validity(c)}",
                   valid=c.get('valid') is not False)
for c in micro.get('scaling', []):
    target(f"{c['case']}: no lost update (generic, reference, specialized)",
           1.0 if (c.get('xfsm_exact') and c.get('ref_exact') and c.get('spec_exact') is not False)
           else 0.0, 1.0, '>=', '')


def flow_rate(key):
    """The firewall's packet rate at 1M flows over 1 flow through
    BPF_PROG_TEST_RUN (the flow driver's own cost taken off both)."""
    s1m, s1 = micro_jobs.get('statefulfw_1m'), micro_jobs.get('statefulfw_1')
    if not (s1m and s1 and s1.get(key) and s1m.get(key)):
        return None
    return div(s1[key] - s1.get('driver_ns', 0), s1m[key] - s1m.get('driver_ns', 0))


# Each next to the hand-written reference's own ratio, measured in the same
# run: a reference that misses it too says the memory, not xfsm, bounds it.
for key, what in (('xfsm_ns', 'generic'), ('spec_ns', 'specialized')):
    if flow_rate(key) is not None:
        target(f'stateful firewall {n1m} flows / 1 flow, packet rate, {what} (BPF_PROG_TEST_RUN)',
               flow_rate(key), 0.5, '>=', note=f"reference {fmt(flow_rate('ref_ns'), 3, 'x')}")
for sid, what in (('s4', f'{n1m} flows / 1 flow, rate on the veth (4)'),
                  ('s4d', f'pass -> drop, {n1m} flows / 1 flow, rate on the veth (4d)')):
    target(f'stateful firewall {what}', ratio(f'{sid}_{n1m}', f'{sid}_1'), 0.5, '>=',
           unjudged=rates_unjudged(f'{sid}_{n1m}', f'{sid}_1'), note=f"reference {fmt(ratio(f'{sid}_{n1m}r', f'{sid}_1r'), 3, 'x')}, "
                f"generic datapath {fmt(ratio(f'{sid}_{n1m}g', f'{sid}_1g'), 3, 'x')}")
nfl = cpv('flows_in_table')
target(f"xfsmctl state list of {int(nfl) if nfl else '?'} flows (text)", cpv('list_flows_s'), 1,
       '<', ' s')
target(f"xfsmctl state list of {int(nfl) if nfl else '?'} flows (text), CPU time", cpv('list_flows_cpu_s'),
       1, '<', ' s')
target(f"xfsmctl -j state list of {int(nfl) if nfl else '?'} flows (JSON)",
       cpv('list_flows_json_s'), 1, '<', ' s')

# Issue 6's targets, kept for comparison.
targets6 = []
_t, targets = targets, targets6
target('portknock closed port / bare XDP (3 vs 1)', ratio('s3', 's1'), 0.9, '>=',
       unjudged=rates_unjudged('s3', 's1'))
target('statefulfw 1 flow / bare XDP (4 vs 1)', ratio('s4_1', 's1'), 0.9, '>=',
       unjudged=rates_unjudged('s4_1', 's1'))
target('xfsm empty app / nft netdev drop (2 vs 6a)', ratio('s2', 's6a'), 3, '>=',
       unjudged=rates_unjudged('s2', 's6a'))
target('xfsm portknock / nft port knocking (3 vs 6b)', ratio('s3', 's6b'), 3, '>=',
       unjudged=rates_unjudged('s3', 's6b'))
for n in (1, 10000, n1m):
    target(f'xfsm statefulfw / nft conntrack, {n} flows (4 vs 6c)',
           ratio(f's4_{n}', f's6c_{n}'), 3, '>=', unjudged=rates_unjudged(f's4_{n}', f's6c_{n}'))
target('xfsm ACL / nft ACL (5 vs 6d)', ratio('s5', 's6d'), 3, '>=',
       unjudged=rates_unjudged('s5', 's6d'))
target('apply 100k rules (libxfsm image)', cpv('apply_100k_rules_s'), 1, '<', ' s')
target('apply 65536 rules (.xfsm, xfsmctl)', cpv('apply_64k_rules_xfsmctl_s'), 1, '<', ' s')
targets = _t

doc = {'machine': machine, 'headline': headline, 'diagnostic': diagnostic, 'scenarios': rows, 'control_plane': cp,
       'targets': targets, 'targets_issue17': targets17, 'targets_issue6': targets6,
       'aa_spreads': spreads,
       'micro': micro,
       'micro_markdown': micro_md}
os.makedirs(os.path.dirname(os.path.abspath(json_path)), exist_ok=True)
with open(json_path, 'w') as f:
    json.dump(doc, f, indent=1)
    f.write('\n')

# ---- Markdown -----------------------------------------------------------------
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
  f"{machine['mem_gib']} GiB (a shared VM: figures vary between runs, see below)")
w(f"- kernel: {machine['kernel']}")
w(f"- date: {machine['date_utc']}")
w(f"- load average at the end of the run: {' / '.join(str(x) for x in machine['loadavg'])} "
  "(1 / 5 / 15 min; the benchmark's own threads and every other task of the machine count)")
w(f"- method: generator on CPU {gen_cpu}, device under test (threaded NAPI of its veth) "
  f"on CPU {dut_cpu}, both {'SCHED_FIFO 50' if rt == '1' else 'at normal priority (--no-rt)'}; "
  f"{repeats} runs of a {window} s window each, median; a job paired with its reference: "
  f"{pair_repeats} rounds, each running xfsm, the reference, the reference again (the A/A "
  f"pair) and, where measured, the generic datapath in turn, the order turning by one each "
  f"round; bpf_stats over a further {stats_window} s; 60-byte frames (64 on the wire)")
ENGINE_NOTES = {
    'live': '',
    'loop': (' (this kernel refuses BPF_PROG_TEST_RUN live frames: the generator\'s frames go '
             'round a veth loop on its CPU, each sending a copy to the DUT, which gets XDP frames '
             'as from live frames; runs of one flow send a few copies at once, --clone)'),
    'packet': (' (this kernel refuses BPF_PROG_TEST_RUN live frames: the generator sends through an '
               'AF_PACKET socket, about 1 Mpps of skbs that the DUT\'s veth copies into XDP frames, '
               'so the DUT\'s CPU goes mostly to the veth\'s skb path; the rates and their ratios below are '
               'recorded but not held against targets, the programs\' own ns from bpf_stats are)'),
}
w(f"- generator engine: {engine}" + ENGINE_NOTES.get(engine, ''))
w(f"- rates and partial drop rates are judged only where the DUT was the limit: its NAPI "
  f"thread {DUT_BOUND_PCT}% busy or more in the runs of every side compared (else the "
  f"generator was, and the DUT absorbed what it was offered)")
w('')
w('## xfsm against the hand-written program doing the same job (issue 11)')
w('')
w('The fair rival of xfsm is the XDP program an engineer would write for that one')
w('function (`bench/ref/`, each checked against xfsm by `selftests/test_ref.c`).')
w('"test run": ns per packet through `BPF_PROG_TEST_RUN` (`bench/micro.c`, the')
w(f"programs alternating, best of several rounds, the median over {micro.get('placements', 1)} loads of")
w('every program, since the cost can depend on where the kernel puts a JIT image;')
w('the range over the loads is in the micro table below; the test-run overhead of about')
w(f"{fmt((micro_jobs.get('empty') or {}).get('ref_ns'), 0)} ns, the empty program's figure, "
  'is in both). "veth": the programs attached to the DUT in turn, under the same')
w("traffic: the program's own cost from `kernel.bpf_stats_enabled` (run_time_ns /")
w(f"run_cnt; the measurement itself adds about {fmt(field('s1', 'prog_ns'), 0)} ns, the bare "
  'XDP drop\'s figure), the rate the DUT absorbed, and how busy its NAPI thread was')
w('(near 100%: the DUT is the limit; well below: the generator is). "PDR": the')
w(f'partial drop rate, the highest rate the generator offered (paced) that the DUT')
w(f'absorbed losing at most {pdr_pct}% of the frames, by bisection, each rate that')
w('failed probed twice (`bench/run-bench.sh`); the rate at saturation charges the')
w('slower program a second time (see "The harness that disagreed with itself").')
w('')
w('xfsm runs each application by a program generated for it (the specializer,')
w('`docs/specializer.md`) where it can, else by the generic datapath; both are')
w('measured. "specialized" is what runs by default (`--datapath auto`) for the jobs')
w('it could generate; "generic" is `--datapath generic`. "net ratio": both sides less the')
w(f"test-run overhead ({fmt(tr_overhead, 1)} ns in this run; for the jobs with a flow driver, less the")
w('driver), what the test-run targets judge: a fixed amount in both sides pulls a ratio')
w('towards 1.')
w('')
w('| job | test run: generic ns | specialized ns | reference ns | generic ratio | '
  'specialized ratio | specialized net ratio | veth: generic ns | default ns | reference ns | default ratio | '
  'veth Mpps: generic | default | reference | default rate ratio | NAPI busy default / reference | '
  'PDR Mpps: default | reference | PDR ratio | A/A: ns / rate / PDR |')
w('|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|---:|---:|---:|---|')
for h in headline + diagnostic:
    w(f"| {h['job']} | {fmt(h.get('test_run_xfsm_ns'), 1)} | {fmt(h.get('test_run_spec_ns'), 1)} | "
      f"{fmt(h.get('test_run_ref_ns'), 1)} | {fmt(h.get('test_run_generic_ratio'), 2, 'x')} | "
      f"{fmt(h.get('test_run_spec_ratio'), 2, 'x')} | {fmt(h.get('test_run_spec_net'), 2, 'x')} | "
      f"{fmt(h.get('veth_generic_ns'), 1)} | "
      f"{fmt(h.get('veth_xfsm_ns'), 1)} | "
      f"{fmt(h.get('veth_ref_ns'), 1)} | {fmt(h.get('veth_ns_ratio'), 2, 'x')} | "
      f"{fmt(h.get('veth_generic_mpps'), 3)} | "
      f"{fmt(h.get('veth_xfsm_mpps'), 3)} | {fmt(h.get('veth_ref_mpps'), 3)} | "
      f"{fmt(h.get('veth_rate_ratio'), 2, 'x')} | {fmt(h.get('napi_xfsm_pct'), 0, '%')} / "
      f"{fmt(h.get('napi_ref_pct'), 0, '%')} | {fmt(h.get('veth_pdr_xfsm_mpps'), 3)} | "
      f"{fmt(h.get('veth_pdr_ref_mpps'), 3)} | {fmt(h.get('veth_pdr_ratio'), 2, 'x')} | "
      f"{fmt(h.get('veth_aa_ns_ratio'), 2, 'x')} / {fmt(h.get('veth_aa_rate_ratio'), 2, 'x')} / "
      f"{fmt(h.get('veth_aa_pdr_ratio'), 2, 'x')} |")
w('')
w('"A/A": the reference again over the reference, the two loaded and measured alike')
w('in the same rounds: what chance alone makes of two identical programs here. The')
w('widest A/A distance from 1 over the pairs of the run is the spread a veth target is')
w('read against: a ratio that misses its goal by less is "met (inside the A/A spread:')
w('no measurable difference)", by more "NOT met (outside the A/A spread)". Spreads in')
w(f"this run: the program's own ns {fmt(veth_ns_spread, 3)}, rate {fmt(veth_rate_spread, 3)}, "
  f'partial drop rate {fmt(veth_pdr_spread, 3)} (rates over the pairs whose DUT was the limit).')
w('')
if diagnostic:
    w("The rows against \"the reference keeping xfsm's statistics\" are not targets: that")
    w('reference (`keep_stats=1`, `bench/ref/xstats.h`) also writes the counters xfsm keeps')
    w('for the job, in maps laid out as xfsm\'s, so what is left between the two is the cost')
    w('of the rest of xfsm; \"in one block\" (`keep_stats=2`) lays the same counters out')
    w('as xfsm does not (all but the rules\' in one per-CPU value, one lookup).')
    w('')


def target_table(title, ts):
    notes = any(t.get('note') for t in ts)
    w(f'## {title}')
    w('')
    if notes:
        w('| target | goal | measured | status | to read it against |')
        w('|---|---|---:|---|---|')
    else:
        w('| target | goal | measured | status |')
        w('|---|---|---:|---|')
    for t in ts:
        m = 'n/a' if t['measured'] is None else f"{t['measured']}{t['unit']}"
        w(f"| {t['target']} | {t['goal']} | {m} | {t['status']} |"
          + (f" {t.get('note') or ''} |" if notes else ''))
    w('')


target_table('Targets (issue 11): the default datapath within 2x of the reference', targets)
target_table('Targets (issue 17): the specialized program within 1.25x of the reference',
             targets17)
w('## Traffic scenarios')
w('')
w('Mpps = packets per second the device under test absorbed, by its own counter; '
  '"offered" = what the generator produced meanwhile; "prog ns" = the XDP program\'s own '
  'cost per packet (bpf_stats; n/a without an XDP program); "DUT CPU" = the DUT CPU\'s '
  'busy time (/proc/stat; other tasks of a shared machine count too), "NAPI" = the DUT '
  'NAPI thread\'s. Ratio = Mpps / scenario 1 of this run; `r` = the hand-written '
  'reference of the job above it, `g` its generic datapath, `p` a partial drop rate '
  '(the probes: offered Mpps / loss).')
w('')
w('| # | scenario | Mpps | ratio to 1 | offered Mpps | prog ns | DUT CPU | NAPI | runs (Mpps) |')
w('|---|---|---:|---:|---:|---:|---:|---:|---|')
for r in rows:
    # s4_10000rp -> 4rp: the scenario, then what the row is of it
    num_id = r['id'][1:]
    if '_' in num_id:
        pre, post = num_id.split('_', 1)
        num_id = pre + post.lstrip('0123456789')
    w(f"| {num_id} | {r['label']} | {fmt(r['mpps'], 3)} | "
      f"{fmt(r['ratio_to_s1'], 2 if (r['ratio_to_s1'] or 1) >= 0.1 else 4, 'x')} | "
      f"{fmt(r['offered_mpps'], 2)} | {fmt(r['prog_ns'], 1)} | {fmt(r['dut_cpu_pct'], 0, '%')} | "
      f"{fmt(r['napi_pct'], 0, '%')} | {r['note']} |")
w('')
w('## Control plane and memory')
w('')
w('| measure | value | how |')
w('|---|---:|---|')
for c in cp:
    d = 0 if c['value'] is not None and c['value'] == int(c['value']) and c['unit'] != 's' else 2
    w(f"| {c['key']} | {fmt(c['value'], d)} {c['unit']} | {c['note']} |")
w('')
target_table('Targets of issue 6 (against a bare XDP program and nftables)', targets6)
w('## Micro benchmark (`make bench-micro`)')
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
