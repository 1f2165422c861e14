#!/usr/bin/env bash
# Benchmark: announce load against the Hyphae tracker and opentracker (Debian's build, whitelist
# mode) on 127.0.0.1 in the same run, with our own load generator (bench/tracker_load): first
# every peer announces once (fill), then random peers re-announce for --duration seconds
# (steady). Each tracker runs twice, a fresh process for the UDP (BEP 15) load and one for the
# HTTP load. Prints per transport: announces/s, p99 latency, baseline and peak RSS (VmRSS after
# the start, VmHWM after the load), bytes per peer ((peak - baseline) / peers), the tracker's CPU
# per announce, and the ratios Hyphae/opentracker. Not a test: it prints figures.
#
#   bench/tracker.sh [--swarms N] [--peers N] [--duration SECONDS] [--in-flight N]
#                    [--connections C] [--only opentracker|hyphae] [--keep DIR]
#
# Defaults: 100000 swarms, 1000000 peers, 20 s, 512 UDP announces in flight, 64 HTTP connections.
# The load generator shares the machine's cores with the tracker under test: the tables show its
# own CPU use (gen_cpu%) and what other processes used meanwhile (other_cpu%; figures taken while
# something else ran are not comparable). --keep DIR keeps the load's JSON reports and the logs.
# opentracker's socket keeps its default 208 KiB receive buffer (256 small datagrams): with more
# announces in flight than that it drops some, and they come back as timeouts (column drops).
set -euo pipefail
cd "$(dirname "$0")/.."

swarms=100000 peers=1000000 duration=20 in_flight=512 connections=64 only="" keep=""
while [[ $# -gt 0 ]]; do
  case $1 in
    --swarms) swarms=$2; shift 2 ;;
    --peers) peers=$2; shift 2 ;;
    --duration) duration=$2; shift 2 ;;
    --in-flight) in_flight=$2; shift 2 ;;
    --connections) connections=$2; shift 2 ;;
    --only) only=$2; shift 2 ;;
    --keep) keep=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "tracker.sh: unknown option '$1' (see --help)" >&2; exit 2 ;;
  esac
done
trackers=(opentracker hyphae)
case $only in
  "") ;;
  opentracker | hyphae) trackers=("$only") ;;
  *) echo "tracker.sh: --only takes opentracker or hyphae" >&2; exit 2 ;;
esac

scripts/setup.sh build test
cmake --preset release >/dev/null
cmake --build --preset release --target hyphae hyphae_tracker_load >/dev/null
hyphae=$PWD/build/release/apps/hyphae/hyphae
load=$PWD/build/release/bench/hyphae_tracker_load
if [[ " ${trackers[*]} " == *" hyphae "* ]] && ! grep -Eq '^ +tracker( |$)' <<<"$("$hyphae" --help)"; then
  echo "tracker.sh: this build of hyphae has no 'tracker' command (--only opentracker runs the other half)" >&2
  exit 1
fi

work=$(mktemp -d /tmp/hyphae-tracker-bench-XXXXXX)
# opentracker drops its privileges to nobody before it reads the whitelist.
chmod 755 "$work"
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  if [[ -n $keep ]]; then mkdir -p "$keep" && cp "$work"/*.json "$work"/*.log "$work"/*.txt "$work"/*.err "$keep"/ 2>/dev/null || true; fi
  rm -rf "$work"
}
trap cleanup EXIT

population=(--swarms "$swarms" --peers "$peers" --seed 1)
hashes=$work/hashes.txt
"$load" "${population[@]}" --write-hashes "$hashes"
chmod 644 "$hashes"

forget_pid() {  # a process already waited for: not killed again at exit (its PID may be reused)
  local kept=() p
  for p in "${pids[@]}"; do [[ $p == "$1" ]] || kept+=("$p"); done
  pids=("${kept[@]}")
}
port_in_use() { [[ -n $(ss -Htuan "sport = :$1") ]]; }
free_port() {  # a port free for TCP and UDP, below the kernel's ephemeral range
  local p
  while :; do
    p=$((20000 + RANDOM % 12000))
    port_in_use "$p" || { echo "$p"; return; }
  done
}
rss_kb() { awk -v key="$2:" '$1 == key { print $2 }' "/proc/$1/status"; }  # rss_kb PID VmRSS|VmHWM
cpu_seconds() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.2f", ($14 + $15) / hz }' "/proc/$1/stat"; }
busy_seconds() {  # CPU time the whole machine has spent busy (user, nice, system, irq, softirq, steal)
  awk -v hz="$(getconf CLK_TCK)" '$1 == "cpu" { printf "%.2f", ($2 + $3 + $4 + $7 + $8 + $9) / hz }' /proc/stat
}
alive() { kill -0 "$1" 2>/dev/null && [[ $(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null) != Z ]]; }
http_get() {  # http_get PORT PATH: the body of a GET on 127.0.0.1 (no curl needed)
  local body
  body=$(timeout 10 bash -c 'exec 3<>/dev/tcp/127.0.0.1/$1; printf "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n" "$2" >&3; cat <&3' _ "$1" "$2" | tr -d '\r')
  echo "${body#*$'\n\n'}"
}
wait_line() {  # wait_line PID FILE PATTERN SECONDS
  local end=$((SECONDS + $4))
  until grep -q "$3" "$2" 2>/dev/null; do
    alive "$1" || { echo "the tracker exited before '$3':" >&2; cat "$2" >&2; exit 1; }
    ((SECONDS < end)) || { echo "timed out waiting for '$3' in $2" >&2; cat "$2" >&2; exit 1; }
    sleep 0.05
  done
}
wait_answers() {  # wait_answers PID --udp|--http HOST:PORT LOG: until an announce of a listed hash gets counts back
  local end=$((SECONDS + 60))
  until "$load" "${population[@]}" "$2" "$3" --probe 2>>"$4"; do
    alive "$1" || { echo "the tracker exited:" >&2; cat "$4" >&2; exit 1; }
    ((SECONDS < end)) || { echo "no announce answer with counts from $2 $3 within 60 s:" >&2; cat "$4" >&2; exit 1; }
    sleep 0.1
  done
}
held_peers() {  # held_peers KIND TCP_PORT: the peers the tracker says it holds
  if [[ $1 == opentracker ]]; then
    http_get "$2" "/stats?mode=peer" | head -1
  else
    http_get "$2" "/stats" | /usr/bin/python3 -c 'import json, sys; print(json.load(sys.stdin)["peers"])'
  fi
}

# run_one KIND udp|http: a fresh tracker, the load, its figures in $work/KIND-TRANSPORT.{json,txt}
run_one() {
  local kind=$1 transport=$2 log=$work/$1-$2.log
  local tcp_port udp_port
  tcp_port=$(free_port)
  udp_port=$(free_port)
  while [[ $udp_port == "$tcp_port" ]]; do udp_port=$(free_port); done
  if [[ $kind == opentracker ]]; then
    # -A blesses 127.0.0.1 for /stats (the peer count below).
    opentracker -i 127.0.0.1 -p "$tcp_port" -P "$udp_port" -w "$hashes" -A 127.0.0.1 >"$log" 2>&1 &
  else
    "$hyphae" tracker --http "$tcp_port" --udp "$udp_port" --bind 127.0.0.1 --allow "$hashes" --rate-limit 0 \
      >"$log" 2>&1 &
  fi
  local pid=$!
  pids+=("$pid")
  [[ $kind == hyphae ]] && wait_line "$pid" "$log" "tracker: ready" 60
  # opentracker answers before its whitelist is loaded: wait for counts, not just an answer.
  wait_answers "$pid" --udp "127.0.0.1:$udp_port" "$log"
  wait_answers "$pid" --http "127.0.0.1:$tcp_port" "$log"
  local baseline cpu_before busy_before start_ns
  baseline=$(rss_kb "$pid" VmRSS)
  cpu_before=$(cpu_seconds "$pid")
  busy_before=$(busy_seconds)
  start_ns=$(date +%s%N)
  local target=(--udp "127.0.0.1:$udp_port" --in-flight "$in_flight")
  [[ $transport == http ]] && target=(--http "127.0.0.1:$tcp_port" --connections "$connections")
  echo "== $kind, $transport" >&2
  if ! /usr/bin/time -f "%U %S" -o "$work/$kind-$transport.time" "$load" "${population[@]}" "${target[@]}" \
    --duration "$duration" --json >"$work/$kind-$transport.json" 2>"$work/$kind-$transport.err"; then
    cat "$work/$kind-$transport.err" >&2
    echo "the load against $kind ($transport) failed; the tracker's log:" >&2
    cat "$log" >&2
    exit 1
  fi
  sed 's/^/   /' "$work/$kind-$transport.err" >&2
  local peak cpu_after held drops busy_after end_ns other
  peak=$(rss_kb "$pid" VmHWM)
  cpu_after=$(cpu_seconds "$pid")
  busy_after=$(busy_seconds)
  end_ns=$(date +%s%N)
  # What the rest of the machine used meanwhile, in % of one core: the figures are only worth
  # keeping when this is near 0 (the two cores are shared with whatever else runs).
  other=$(awk -v b0="$busy_before" -v b1="$busy_after" -v t0="$cpu_before" -v t1="$cpu_after" \
    -v wall=$(((end_ns - start_ns) / 1000000)) '{ o = (b1 - b0) - (t1 - t0) - ($1 + $2); printf "%.0f", (o < 0 ? 0 : o) * 100000 / wall }' \
    "$work/$kind-$transport.time")
  held=$(held_peers "$kind" "$tcp_port" || echo "?")
  drops=$(ss -Huamn "sport = :$udp_port" | grep -o 'd[0-9]*)' | tr -dc 0-9 || true)
  kill -TERM "$pid"
  local status=0
  wait "$pid" || status=$?
  forget_pid "$pid"
  if [[ $kind == hyphae && $status -ne 0 ]]; then
    echo "hyphae tracker exited with status $status on SIGTERM; its log:" >&2
    cat "$log" >&2
    exit 1
  fi
  echo "$baseline $peak $(awk -v a="$cpu_before" -v b="$cpu_after" 'BEGIN { printf "%.2f", b - a }') ${held:-?} ${drops:-0}" \
    "$other" >"$work/$kind-$transport.txt"
}

for kind in "${trackers[@]}"; do
  for transport in udp http; do
    run_one "$kind" "$transport"
  done
done

/usr/bin/python3 - "$work" "$peers" "${trackers[@]}" <<'EOF'
import json, sys

work, peers, kinds = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
rows = {}
for kind in kinds:
    for transport in ("udp", "http"):
        report = json.load(open(f"{work}/{kind}-{transport}.json"))
        baseline, peak, cpu, held, drops, other = open(f"{work}/{kind}-{transport}.txt").read().split()
        fill, steady = report["fill"], report["steady"]
        answers = fill["announces"] + steady["announces"]
        rows[kind, transport] = {
            "fill/s": fill["announces_per_s"],
            "steady/s": steady["announces_per_s"],
            "p50_ms": steady["latency_us"]["p50"] / 1e3,
            "p99_ms": steady["latency_us"]["p99"] / 1e3,
            "fill_p99_ms": fill["latency_us"]["p99"] / 1e3,
            "base_MB": int(baseline) / 1024,
            "peak_MB": int(peak) / 1024,
            "B/peer": (int(peak) - int(baseline)) * 1024 / peers,
            "cpu_us/ann": 1e6 * float(cpu) / max(answers, 1),
            "timeouts": fill["timeouts"] + steady["timeouts"],
            "errors": fill["errors"] + steady["errors"] + fill["empty_answers"] + steady["empty_answers"],
            "held": held,
            "drops": drops,
            "gen_cpu%": steady["generator_cpu_percent"],
            "reconnects": fill["reconnects"] + steady["reconnects"],
            "other_cpu%": other,
        }
columns = ["fill/s", "steady/s", "p50_ms", "p99_ms", "fill_p99_ms", "base_MB", "peak_MB", "B/peer", "cpu_us/ann",
           "timeouts", "errors", "held", "drops", "reconnects", "gen_cpu%", "other_cpu%"]
formats = {"fill/s": "{:.0f}", "steady/s": "{:.0f}", "p50_ms": "{:.2f}", "p99_ms": "{:.2f}", "fill_p99_ms": "{:.2f}",
           "base_MB": "{:.1f}", "peak_MB": "{:.1f}", "B/peer": "{:.1f}", "cpu_us/ann": "{:.2f}", "gen_cpu%": "{:.0f}"}
better = {"fill/s", "steady/s", "p50_ms", "p99_ms", "fill_p99_ms", "peak_MB", "B/peer", "cpu_us/ann"}
for transport, title in (("udp", "UDP (BEP 15)"), ("http", "HTTP")):
    report = json.load(open(f"{work}/{kinds[0]}-{transport}.json"))
    load = f"{report['in_flight']} in flight" if transport == "udp" else f"{report['connections']} connections"
    print(f"\n{title}: {report['swarms']} swarms, {report['peers']} peers, {load}, steady {report['duration_s']:g} s")
    lines = [["tracker"] + columns]
    for kind in kinds:
        r = rows[kind, transport]
        lines.append([kind] + [formats.get(c, "{}").format(r[c]) for c in columns])
    if len(kinds) == 2:
        h, o = rows["hyphae", transport], rows["opentracker", transport]
        lines.append(["hyphae/ot"] + [f"{h[c] / o[c]:.2f}x" if c in better and o[c] else "" for c in columns])
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for line in lines:
        print(line[0].ljust(widths[0]) + "".join("  " + cell.rjust(w) for cell, w in zip(line[1:], widths[1:])))
print("\nsteady p50/p99: steady phase; B/peer: (peak RSS - baseline RSS) / peers; cpu_us/ann: the tracker's CPU per"
      "\nannounce over both phases; held: peers the tracker reports after the run; drops: datagrams its UDP socket"
      "\ndropped (a full receive buffer); gen_cpu%: the load generator's own CPU in the steady phase; other_cpu%:"
      "\nwhat other processes used meanwhile (% of one core; the figures are comparable only when it is near 0)."
      "\nratios are Hyphae/opentracker: above 1 is better for rates, below 1 for latency, memory and CPU.")
EOF
