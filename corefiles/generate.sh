#!/usr/bin/env bash
# Regenerates the goautopsy core corpus: builds every program under programs/
# with every requested Go toolchain, runs it until it dumps core, and stores
# core.zst, exe.zst, truth.json and traceback.txt under cores/go1.NN/<case>/.
#
#   corefiles/generate.sh [--versions "1.19 1.26 1.27"] [case...]
#   corefiles/generate.sh --bench DIR [--versions "1.26"] [bench_case...]
#
# See corefiles/README.md. Needs: bash, go toolchains, gdb (gcore), zstd,
# python3 (truth/traceback checks). Run as a user allowed to dump core.
set -euo pipefail

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
PROGS=$HERE/programs
CORES=$HERE/cores
VERSIONS="1.19 1.26 1.27"
VERSIONS_SET=0
BENCH_DIR=""
CASES=()
RUN_TIMEOUT=${GOAUTOPSY_RUN_TIMEOUT:-300}   # seconds per program run
ZSTD_LEVEL=${GOAUTOPSY_ZSTD_LEVEL:-19}

die() { echo "generate.sh: ERROR: $*" >&2; exit 1; }
log() { echo "generate.sh: $*" >&2; }

while [ $# -gt 0 ]; do
	case "$1" in
	--versions) [ $# -ge 2 ] || die "--versions needs an argument"; VERSIONS=$2; VERSIONS_SET=1; shift 2 ;;
	--versions=*) VERSIONS=${1#--versions=}; VERSIONS_SET=1; shift ;;
	--bench) [ $# -ge 2 ] || die "--bench needs a directory"; BENCH_DIR=$2; shift 2 ;;
	--bench=*) BENCH_DIR=${1#--bench=}; shift ;;
	-h|--help) sed -n '2,12p' "$0"; exit 0 ;;
	-*) die "unknown option $1" ;;
	*) CASES+=("$1"); shift ;;
	esac
done

# gocmd VER: sets the array GO to the command running toolchain VER. Override
# the binaries with GOAUTOPSY_GO_1_19 / _1_26 / _1_27 on other machines.
gocmd() {
	local v=$1 var="GOAUTOPSY_GO_${1//./_}"
	local common=(env GOFLAGS=-mod=mod GOPROXY=off GOWORK=off)
	if [ -n "${!var:-}" ]; then
		GO=("${common[@]}" GOTOOLCHAIN=local "${!var}")
		return
	fi
	case "$v" in
	1.19) GO=("${common[@]}" GOTOOLCHAIN=local /usr/lib/go-1.19/bin/go) ;;
	1.26) GO=("${common[@]}" GOTOOLCHAIN=local /usr/local/go/bin/go) ;;
	1.27) GO=("${common[@]}" GOTOOLCHAIN=go1.27.3 /usr/local/go/bin/go) ;;
	*) die "unknown toolchain version $v (known: 1.19 1.26 1.27; or set $var)" ;;
	esac
}

# have_toolchain VER: the toolchain runs and reports go VER.x.
have_toolchain() {
	gocmd "$1"
	local got
	got=$("${GO[@]}" env GOVERSION 2>/dev/null) || return 1
	[[ $got == "go$1" || $got == go$1.* ]] || { log "toolchain for $1 reports '$got'"; return 1; }
	GOVERSION_FULL=$got
}

# Every case's truth.go is a symbolic link to the master copy (a Go
# package cannot span folders; all three toolchains follow the link).
sync_truth() {
	local d
	for d in "$PROGS"/*/; do
		d=${d%/}
		[[ $(basename "$d") == _* ]] && continue
		[ -f "$d/main.go" ] || continue
		[ "$(readlink "$d/truth.go")" = ../_common/truth.go ] || ln -sfn ../_common/truth.go "$d/truth.go"
	done
}

# excluded CASE: main.go is excluded by build constraints for the current GO.
excluded() {
	local ign
	ign=$(cd "$PROGS/$1" && "${GO[@]}" list -f '{{join .IgnoredGoFiles " "}}' . 2>/dev/null) ||
		die "go list failed for $1 with $GOVERSION_FULL"
	[[ " $ign " == *" main.go "* ]]
}

# find_core DIR PID: prints the core file the kernel wrote into DIR.
find_core() {
	local f
	for f in "$1/core" "$1/core.$2"; do
		[ -f "$f" ] && { echo "$f"; return 0; }
	done
	return 1
}

# wait_truth FILE PID: waits up to 60 s for FILE while PID lives.
wait_truth() {
	local i
	for ((i = 0; i < 600; i++)); do
		[ -f "$1" ] && return 0
		kill -0 "$2" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# run_crash EXE DIR: runs EXE in DIR until it aborts; sets RC.
run_crash() {
	local exe=$1 dir=$2 pid wd
	(
		cd "$dir"
		ulimit -c unlimited
		exec env GOTRACEBACK=crash GOAUTOPSY_MODE=crash GOAUTOPSY_TRUTH="$dir/truth.json" \
			"$exe" >"$dir/stdout.txt" 2>"$dir/traceback.txt"
	) &
	pid=$!
	# Watchdog: polls, so it ends by itself right after the program does
	# (a plain background sleep would outlive the script and hold its stdout).
	(
		for ((i = 0; i < RUN_TIMEOUT * 10; i++)); do
			sleep 0.1
			kill -0 "$pid" 2>/dev/null || exit 0
		done
		echo "generate.sh: $exe ran for ${RUN_TIMEOUT}s: killing it" >&2
		kill -9 "$pid" 2>/dev/null
	) </dev/null >/dev/null &
	wd=$!
	RC=0
	wait "$pid" 2>/dev/null || RC=$?
	wait "$wd" 2>/dev/null || true
}

# run_gcore EXE DIR: runs EXE in sleep mode, waits for its truth, snapshots it
# with gcore into DIR/gcore.PID, kills it. Prints the core path.
run_gcore() {
	local exe=$1 dir=$2 pid core
	rm -f "$dir/truth.json"
	(
		cd "$dir"
		exec env GOTRACEBACK=crash GOAUTOPSY_MODE=sleep GOAUTOPSY_TRUTH="$dir/truth.json" \
			"$exe" >"$dir/stdout.txt" 2>"$dir/stderr.txt"
	) &
	pid=$!
	if ! wait_truth "$dir/truth.json" "$pid"; then
		kill -9 "$pid" 2>/dev/null || true
		wait "$pid" 2>/dev/null || true
		cat "$dir/stderr.txt" >&2 || true
		return 1
	fi
	sleep 0.2 # let main reach its time.Sleep
	gcore -o "$dir/gcore" "$pid" >"$dir/gcore.log" 2>&1 || { cat "$dir/gcore.log" >&2; kill -9 "$pid"; return 1; }
	kill -9 "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	core="$dir/gcore.$pid"
	[ -f "$core" ] || return 1
	: >"$dir/traceback.txt" # no crash, no traceback
	echo "$core"
}

# check_case DIR VERSION MODE: truth.json / traceback.txt sanity checks.
check_case() {
	command -v python3 >/dev/null || { log "python3 missing: skipping truth checks"; return 0; }
	python3 - "$1" "$2" "$3" <<'PY'
import json, re, sys
d, ver, mode = sys.argv[1:4]
t = json.load(open(d + "/truth.json"))
need = ["case", "go_version", "goos", "goarch", "pid", "num_goroutine", "memstats",
        "leaks", "goroutines", "expect_findings"]
miss = [k for k in need if k not in t]
if miss:
    sys.exit("truth.json lacks " + ", ".join(miss))
if not re.match(r"go%s(\.|$)" % re.escape(ver), t["go_version"]):
    sys.exit("truth go_version %s is not go%s" % (t["go_version"], ver))
if mode == "gcore":
    sys.exit(0)
tb = open(d + "/traceback.txt", errors="replace").read()
if "deliberate crash after writing truth" not in tb:
    sys.exit("traceback.txt lacks the deliberate panic")
heads = {}
for m in re.finditer(r"^goroutine (\d+) [^\n]*?\[([^\]]*)\]:", tb, re.M):
    heads[int(m.group(1))] = m.group(2).split(", ")[0]
if heads.get(1) != "running":
    sys.exit("goroutine 1 is not the running (dying) goroutine: %r" % heads.get(1))
if len(heads) < t["num_goroutine"]:
    sys.exit("traceback lists %d goroutines, truth num_goroutine is %d" % (len(heads), t["num_goroutine"]))
bad = []
for g in t["goroutines"]:
    got = heads.get(g["goid"])
    if got != g["wait_reason"]:
        bad.append("goroutine %d: truth %r, traceback %r" % (g["goid"], g["wait_reason"], got))
if bad:
    sys.exit("wait reasons differ: " + "; ".join(bad))
PY
}

# produce VERSION CASE OUTDIR KEEP_RAW: build, run, dump, store.
# KEEP_RAW=1 (bench) stores core and exe uncompressed.
produce() {
	local ver=$1 c=$2 out=$3 raw=$4 scratch exe core mode attempt err
	scratch=$(mktemp -d "${TMPDIR:-/tmp}/goautopsy-corpus.XXXXXX")
	exe="$scratch/$c"
	(cd "$PROGS/$c" && "${GO[@]}" build -o "$exe" .) || die "build of $c with $GOVERSION_FULL failed"
	for attempt in 1 2 3; do
		rm -f "$scratch"/core "$scratch"/core.* "$scratch"/gcore.* "$scratch"/truth.json
		core=""
		if [ "$c" = gcore_live ]; then
			mode=gcore
			core=$(run_gcore "$exe" "$scratch") || die "$c ($GOVERSION_FULL): gcore snapshot failed"
		else
			mode=crash
			run_crash "$exe" "$scratch"
			[ -f "$scratch/truth.json" ] || { cat "$scratch/traceback.txt" >&2; die "$c ($GOVERSION_FULL): no truth.json (exit status $RC)"; }
			local pid
			pid=$(sed -n 's/^  "pid": \([0-9]*\),$/\1/p' "$scratch/truth.json")
			if ! core=$(find_core "$scratch" "$pid"); then
				log "$c ($GOVERSION_FULL): no core after exit status $RC; falling back to gcore"
				mode=gcore
				core=$(run_gcore "$exe" "$scratch") || die "$c ($GOVERSION_FULL): neither a core nor a gcore snapshot"
			fi
		fi
		if err=$(check_case "$scratch" "$ver" "$mode" 2>&1); then
			break
		fi
		[ "$attempt" = 3 ] && die "$c ($GOVERSION_FULL): $err"
		log "$c ($GOVERSION_FULL): check failed ($err); retrying"
	done
	rm -rf "$out.new"
	mkdir -p "$out.new"
	if [ "$raw" = 1 ]; then
		mv "$core" "$out.new/core"
		cp "$exe" "$out.new/exe"
	else
		zstd -"$ZSTD_LEVEL" -T0 -q -f "$core" -o "$out.new/core.zst"
		zstd -"$ZSTD_LEVEL" -T0 -q -f "$exe" -o "$out.new/exe.zst"
	fi
	cp "$scratch/truth.json" "$scratch/traceback.txt" "$out.new/"
	SIZES+=("$(printf '%-8s %-26s %6s %12d %12d %10d' "go$ver" "$c" "$mode" \
		"$(stat -c %s "$core" 2>/dev/null || stat -c %s "$out.new/core")" \
		"$(stat -c %s "$out.new/core.zst" 2>/dev/null || echo 0)" \
		"$(stat -c %s "$out.new/exe.zst" 2>/dev/null || stat -c %s "$out.new/exe")")")
	rm -rf "$out"
	mv "$out.new" "$out"
	rm -rf "$scratch"
	log "$c ($GOVERSION_FULL): ok ($mode)"
}

command -v zstd >/dev/null || die "zstd not found"
command -v gcore >/dev/null || log "warning: gcore not found; gcore_live and the no-core fallback will fail"
sync_truth

SIZES=()
if [ -n "$BENCH_DIR" ]; then
	[ "$VERSIONS_SET" = 1 ] || VERSIONS="1.26"
	[ ${#CASES[@]} -gt 0 ] || CASES=(bench_goroutines bench_heap)
	mkdir -p "$BENCH_DIR"
	BENCH_DIR=$(cd "$BENCH_DIR" && pwd)
else
	if [ ${#CASES[@]} -eq 0 ]; then
		for d in "$PROGS"/*/main.go; do
			c=$(basename "$(dirname "$d")")
			[[ $c == _* || $c == bench_* ]] && continue
			CASES+=("$c")
		done
	fi
fi
for c in "${CASES[@]}"; do
	[ -f "$PROGS/$c/main.go" ] || die "no such case: $c"
done

for ver in $VERSIONS; do
	if ! have_toolchain "$ver"; then
		log "skipping go$ver: toolchain not installed"
		continue
	fi
	log "toolchain go$ver = $GOVERSION_FULL"
	for c in "${CASES[@]}"; do
		if [ -n "$BENCH_DIR" ]; then
			out="$BENCH_DIR/go$ver/$c"
		else
			out="$CORES/go$ver/$c"
		fi
		if excluded "$c"; then
			log "skipping $c for $GOVERSION_FULL: build constraints exclude main.go"
			[ -n "$BENCH_DIR" ] || rm -rf "$out"
			continue
		fi
		mkdir -p "$(dirname "$out")"
		produce "$ver" "$c" "$out" "$([ -n "$BENCH_DIR" ] && echo 1 || echo 0)"
	done
done

echo
printf '%-8s %-26s %6s %12s %12s %10s\n' version case dump core_bytes core.zst exe
for s in "${SIZES[@]}"; do echo "$s"; done
if [ -n "$BENCH_DIR" ]; then
	du -sh "$BENCH_DIR"
else
	du -sh "$CORES"
fi
