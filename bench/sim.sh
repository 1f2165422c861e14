#!/usr/bin/env bash
# The simulator runs behind docs/results/sim.md: scale (N = 10^3..10^6, no churn), churn (N = 10^5,
# median sessions 1 h, 10 min, 1 min) and attacks (N = 10^5, 5/10/20/30 % adversaries of each kind,
# with and without the defence meant for it). Every run is `hyphae sim SCENARIO --seed S --out DIR`
# (plus --set overrides for the sweeps), so any row can be re-run alone. bench/sim_report.py turns
# the result folders into the tables and the attack plot. Not a test: hours of CPU in all.
#
#   bench/sim.sh [scale] [churn] [attacks] [swarm] [--seed S] [--out DIR] [--nodes N]
#
# swarm: the BitTorrent swarm scenarios, swarm-smoke and the flash crowd swarm-1e4 (10,000
# leechers; the goal is under 10 minutes), with the Qiu-Srikant fluid model's figures for the same
# parameters from bench/fluid_model.py beside each (docs/results/swarm.md).
#
# Defaults: all three sets, seed 1, results in build/sim-results. --nodes overrides N for the churn
# and attack sets (quick looks at 10^4). The performance goal (10^6 nodes + 10,000 lookups in under
# 10 minutes and 16 GiB) is the scale-1e6 row: see its run.json.
set -euo pipefail
cd "$(dirname "$0")/.."

sets=()
seed=1
out=build/sim-results
nodes=""
while [[ $# -gt 0 ]]; do
  case $1 in
    scale | churn | attacks | swarm) sets+=("$1"); shift ;;
    --seed) seed=$2; shift 2 ;;
    --out) out=$2; shift 2 ;;
    --nodes) nodes=$2; shift 2 ;;
    -h | --help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) echo "sim.sh: unknown argument '$1' (see --help)" >&2; exit 2 ;;
  esac
done
[[ ${#sets[@]} -gt 0 ]] || sets=(scale churn attacks)

scripts/setup.sh build
cmake --preset release >/dev/null
cmake --build build/release --target hyphae >/dev/null
bin=build/release/apps/hyphae/hyphae
mkdir -p "$out"

run() {  # DIR SCENARIO [--set ...]
  local dir=$1 scenario=$2
  shift 2
  if [[ -f $dir/summary.json && -f $dir/run.json ]]; then
    echo "sim.sh: $dir done already (remove it to run again)"
    return
  fi
  echo "sim.sh: $dir"
  "$bin" sim "$scenario" --seed "$seed" --out "$dir" -q "$@" | sed 's/^/  /'
}

size=()
[[ -n $nodes ]] && size=(--set "network.nodes=$nodes")

for set in "${sets[@]}"; do
  case $set in
    scale)
      for n in 3 4 5 6; do run "$out/scale/1e$n" "scenarios/scale-1e$n.toml"; done ;;
    swarm)
      # name leechers MiB seed-kbps peer-up-kbps peer-down-kbps pieces
      while read -r name n mib su pu pd pieces; do
        run "$out/swarm/$name" "scenarios/$name.toml"
        bench/fluid_model.py flash --leechers "$n" --file-size "${mib}MiB" --seed-upload $((su * 125)) \
          --upload $((pu * 125)) --download $((pd * 125)) --pieces "$pieces" --departure stay | sed 's/^/  fluid: /'
      done <<<"swarm-smoke 50 16 10000 2000 10000 64
swarm-1e4 10000 64 20000 2000 20000 64" ;;
    churn)
      for m in 1h 10min 1min; do run "$out/churn/$m" "scenarios/churn-$m.toml" "${size[@]}"; done ;;
    attacks)
      for f in 0.05 0.1 0.2 0.3; do
        a=(--set "adversaries.fraction=$f" "${size[@]}")
        run "$out/attacks/drop/$f/none" scenarios/attack-drop.toml "${a[@]}"
        run "$out/attacks/drop/$f/d4" scenarios/attack-drop.toml "${a[@]}" --set defences.disjoint_paths=4
        run "$out/attacks/wrong-routing/$f/none" scenarios/attack-wrong-routing.toml "${a[@]}"
        run "$out/attacks/wrong-routing/$f/checks" scenarios/attack-wrong-routing.toml "${a[@]}" --set defences.check_answers=true
        run "$out/attacks/wrong-routing/$f/d4" scenarios/attack-wrong-routing.toml "${a[@]}" --set defences.disjoint_paths=4
        run "$out/attacks/collude/$f/none" scenarios/attack-collude.toml "${a[@]}"
        for d in 2 4 8; do
          run "$out/attacks/collude/$f/d$d" scenarios/attack-collude.toml "${a[@]}" --set "defences.disjoint_paths=$d"
        done
        run "$out/attacks/sybil/$f/none" scenarios/attack-sybil.toml "${a[@]}"
        run "$out/attacks/sybil/$f/bep42" scenarios/attack-sybil.toml "${a[@]}" --set defences.bep42_checks=true
        run "$out/attacks/sybil/$f/d4" scenarios/attack-sybil.toml "${a[@]}" --set defences.disjoint_paths=4
        for b in 1 2 4; do
          run "$out/attacks/partition/$f/b$b" scenarios/attack-partition.toml "${a[@]}" --set "network.bootstrap_nodes=$b"
        done
        run "$out/attacks/partition/$f/b2d4" scenarios/attack-partition.toml "${a[@]}" --set network.bootstrap_nodes=2 --set defences.disjoint_paths=4
        run "$out/attacks/fake-updates/$f/long-lived" scenarios/attack-fake-updates.toml "${a[@]}"
        run "$out/attacks/fake-updates/$f/fresh" scenarios/attack-fake-updates.toml "${a[@]}" --set defences.prefer_long_lived=false
      done ;;
  esac
done
echo "sim.sh: results in $out; tables: bench/sim_report.py $out"
