#!/usr/bin/env bash
# Load benchmark (not a test) for project issue 6: two fedrp nodes sharing one Redis, all on
# loopback, driven by wrk. Reports sign-in POSTs/s and authenticated GETs/s with p50/p99, per
# node and in total, for cookie and server-side sessions.
#
#   scripts/load-redis.sh                      # build, mint tokens, run, print the table
#   MODES=cookie POST_SECONDS=5 scripts/load-redis.sh
#
# Knobs: MODES ("cookie server"), POST_SECONDS (5), GET_SECONDS (10), CONNS per node (8),
# TOKENS (minted sign-in bodies, 80000: about 6 KB and 0.3 ms of minting each; a run that
# runs out is flagged "wrapped" and its repeats are refused as replays), ENGINE (xmlsec | streaming; default xmlsec),
# OUT (results directory, default target/load-redis).
#
# How (the approach of shared/bench/http): every sign-in is an unsolicited WS-Fed POST
# `wa=wsignin1.0&wresult=<RSTR>` with its own signed token (examples/mint_tokens.rs, TEST ONLY key
# certs/idp-a), each sent once; success is a 303 with Set-Cookie. One wrk (1 thread, CONNS
# connections) per node runs at the same time, each with its own slice of the tokens. The
# authenticated GETs use one session cookie issued by node A, on both nodes at once (so node B
# serves A's session through Redis); success is a 200. wrk's Lua scripts are scripts/load/*.lua
# (copied from shared/bench/http/load). Nothing is pinned: 2 cores carry both nodes, Redis and
# wrk, so read the figures as "the whole farm on this machine", not per-core throughput.
set -euo pipefail
cd "$(dirname "$0")/.."
MODES=${MODES:-"cookie server"}
POST_SECONDS=${POST_SECONDS:-5}
GET_SECONDS=${GET_SECONDS:-10}
CONNS=${CONNS:-8}
TOKENS=${TOKENS:-80000}
ENGINE=${ENGINE:-xmlsec}
OUT=${OUT:-target/load-redis}

command -v wrk >/dev/null || { echo "installing wrk" >&2; apt-get install -y -qq wrk >/dev/null; }
command -v redis-server >/dev/null || scripts/install-deps.sh test
cargo build --release --bin fedrp --example mint_tokens >&2
mkdir -p "$OUT"
work=$(mktemp -d)
pids=()
cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

# Tokens: minted once per TOKENS count, kept in $OUT (8 KB each).
bodies="$OUT/bodies-$TOKENS.txt"
if [[ ! -s $bodies || $(wc -l <"$bodies") -lt $TOKENS ]]; then
  echo "minting $TOKENS tokens (two processes)..." >&2
  half=$((TOKENS / 2))
  target/release/examples/mint_tokens "$half" urn:bench:idp urn:fedrp:bench idp-a >"$work/m0" &
  m0=$!
  target/release/examples/mint_tokens "$((TOKENS - half))" urn:bench:idp urn:fedrp:bench idp-a >"$work/m1"
  wait "$m0"
  cat "$work/m0" "$work/m1" >"$bodies"
fi

openssl rand -base64 32 >"$work/session.key"
rport=$(free_port)
redis-server --port "$rport" --bind 127.0.0.1 --save "" --appendonly no --dir "$work" \
  --daemonize no >"$work/redis.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done

node() { # node NAME PORT MODE
  cat >"$work/$1.toml" <<TOML
store = "redis"
[redis]
url = "redis://127.0.0.1:$rport"
key_prefix = "load-$3:"
[server]
listen = "127.0.0.1:$2"
workers = 1
hsts = false
[session]
mode = "$3"
key_files = ["$work/session.key"]
idle_timeout_secs = 28800
[limits]
max_token_age_secs = 0
[[issuers]]
name = "bench"
entity_id = "urn:bench:idp"
signin_url = "https://bench-idp.invalid/wsfed"
trust_files = ["$PWD/certs/idp-a.pem"]
allow_unsolicited = true
engine = "$ENGINE"
[issuers.claims]
label = "K2"
identity = { claim = "http://schemas.xmlsoap.org/ws/2005/05/identity/claims/windowsaccountname" }
domain = "down-level"
[[issuers.claims.groups]]
claim = "http://schemas.microsoft.com/ws/2008/06/identity/claims/role"
[[realms]]
name = "bench"
realm = "urn:fedrp:bench"
landing_path = "/app/"
TOML
  RUST_LOG=warn target/release/fedrp serve --config "$work/$1.toml" >"$work/$1.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 100); do curl -sf "http://127.0.0.1:$2/readyz" >/dev/null && return; sleep 0.1; done
  echo "node $1 did not become ready:" >&2; cat "$work/$1.log" >&2; exit 1
}

result() { grep '^RESULT' "$1" | tail -1; }
field() { sed -E "s/.* $2=([0-9]+).*/\1/" <<<"$1"; }

printf '%s\n' "| sessions | load | node | requests | ok | rate/s | p50 ms | p99 ms | notes |" \
  "|---|---|---|---:|---:|---:|---:|---:|---|" >"$OUT/table.md"
row() { # row MODE LOAD NODE RESULTLINE
  local r=$4 d ok
  d=$(field "$r" duration_us); ok=$(field "$r" ok)
  local notes=""
  [[ $(field "$r" bad) != 0 ]] && notes="bad=$(field "$r" bad)"
  [[ $(field "$r" wrapped) != 0 ]] && notes="$notes wrapped"
  printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$(field "$r" requests)" "$ok" \
    "$(awk -v o="$ok" -v d="$d" 'BEGIN{printf "%.0f", o/(d/1e6)}')" \
    "$(awk -v x="$(field "$r" p50_us)" 'BEGIN{printf "%.2f", x/1000}')" \
    "$(awk -v x="$(field "$r" p99_us)" 'BEGIN{printf "%.2f", x/1000}')" "$notes" >>"$OUT/table.md"
}
total() { # total MODE LOAD RESULT_A RESULT_B
  local oa ob da db
  oa=$(field "$3" ok); ob=$(field "$4" ok); da=$(field "$3" duration_us); db=$(field "$4" duration_us)
  printf '| %s | %s | **both** | %s | %s | **%s** | | | |\n' "$1" "$2" \
    $(( $(field "$3" requests) + $(field "$4" requests) )) $((oa + ob)) \
    "$(awk -v a="$oa" -v b="$ob" -v x="$da" -v y="$db" 'BEGIN{printf "%.0f", a/(x/1e6)+b/(y/1e6)}')" >>"$OUT/table.md"
}

offset=0
# Token slices: one per node and mode (the first of each mode's is the check token).
per=$(( (TOKENS - 2 * $(wc -w <<<"$MODES")) / (2 * $(wc -w <<<"$MODES")) ))
((per > 100)) || { echo "not enough tokens: raise TOKENS" >&2; exit 1; }
for mode in $MODES; do
  pa=$(free_port); pb=$(free_port)
  node "a-$mode" "$pa" "$mode"
  node "b-$mode" "$pb" "$mode"
  # A check sign-in on A: its cookie serves the GET load; its token replayed on B must fail.
  check=$(sed -n "$((offset + 1))p" "$bodies")
  offset=$((offset + 1))
  cookie=$(curl -s -o /dev/null -D - -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-binary "$check" "http://127.0.0.1:$pa/signin-wsfed" | tr -d '\r' |
    sed -nE 's/^[Ss]et-[Cc]ookie: ([^;]+);.*/\1/p' | grep -v '=$' | paste -sd';' | sed 's/;/; /g')
  [[ -n $cookie ]] || { echo "check sign-in failed" >&2; cat "$work/a-$mode.log" >&2; exit 1; }
  replay=$(curl -s -o /dev/null -w '%{http_code}' -X POST -H 'Content-Type: application/x-www-form-urlencoded' \
    --data-binary "$check" "http://127.0.0.1:$pb/signin-wsfed")
  onb=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: $cookie" "http://127.0.0.1:$pb/app/")
  echo "$mode: check sign-in on A ok; same token on B -> $replay; A's cookie on B -> $onb" >&2
  [[ $replay == 403 && $onb == 200 ]] || { echo "farm check failed" >&2; exit 1; }
  for n in a b; do
    sed -n "$((offset + 1)),$((offset + per))p" "$bodies" >"$work/slice-$n.0"
    offset=$((offset + per))
  done
  # Sign-in POSTs on both nodes at once.
  wrk -t1 -c"$CONNS" -d"${POST_SECONDS}s" --timeout 10s -s scripts/load/signin.lua \
    "http://127.0.0.1:$pa" -- "$work/slice-a" /signin-wsfed >"$work/post-a.txt" &
  wa=$!
  wrk -t1 -c"$CONNS" -d"${POST_SECONDS}s" --timeout 10s -s scripts/load/signin.lua \
    "http://127.0.0.1:$pb" -- "$work/slice-b" /signin-wsfed >"$work/post-b.txt"
  wait "$wa"
  ra=$(result "$work/post-a.txt"); rb=$(result "$work/post-b.txt")
  row "$mode" "sign-in POST" A "$ra"; row "$mode" "sign-in POST" B "$rb"; total "$mode" "sign-in POST" "$ra" "$rb"
  # Authenticated GETs with A's session on both nodes at once.
  wrk -t1 -c"$CONNS" -d"${GET_SECONDS}s" --timeout 10s -s scripts/load/authget.lua \
    "http://127.0.0.1:$pa" -- "$cookie" /app/ >"$work/get-a.txt" &
  wa=$!
  wrk -t1 -c"$CONNS" -d"${GET_SECONDS}s" --timeout 10s -s scripts/load/authget.lua \
    "http://127.0.0.1:$pb" -- "$cookie" /app/ >"$work/get-b.txt"
  wait "$wa"
  ra=$(result "$work/get-a.txt"); rb=$(result "$work/get-b.txt")
  row "$mode" "authenticated GET" A "$ra"; row "$mode" "authenticated GET" B "$rb"; total "$mode" "authenticated GET" "$ra" "$rb"
  echo "$mode: redis keys: $(redis-cli -p "$rport" --scan --pattern "load-$mode:r:*" | wc -l) replay records," \
    "$(redis-cli -p "$rport" zcard "load-$mode:active") active sessions" >&2
  cp "$work"/post-*.txt "$work"/get-*.txt "$OUT/" 2>/dev/null || true
done

{
  echo
  echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(free -g | awk '/Mem:/{print $2}') GiB"
  echo "fedrp $(git rev-parse --short HEAD 2>/dev/null || echo '?'), engine $ENGINE, $(redis-server --version | cut -d' ' -f3), $(wrk --version 2>&1 | head -1 | cut -d' ' -f1-2)"
  echo "wrk: 1 thread x $CONNS connections per node, sign-ins ${POST_SECONDS}s, GETs ${GET_SECONDS}s; p50/p99 at saturation"
} >>"$OUT/table.md"
cat "$OUT/table.md"
