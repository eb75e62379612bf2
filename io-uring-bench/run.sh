#!/usr/bin/env bash
# Measures every (library, workload) of io-uring-bench in two build
# profiles and writes io-uring-bench/RESULTS.md, results.csv and
# results.svg. One command, from anywhere:
#
#   io-uring-bench/run.sh        (about 15 minutes on 2 busy cores)
#
# Profiles, applied equally to every library:
# - bench-lto (the headline): the workspace profile `bench-lto`
#   (lto = "fat", codegen-units = 1, panic = "abort"); liburing's bench
#   with `cc -O2 -flto`.
# - release: the default `--release` profile; liburing's bench with
#   `cc -O2`.
# liburing is Debian's liburing-dev (installed here if missing), linked
# statically; its header's inline helpers compile with the bench, the
# calls into liburing.a (io_uring_submit_and_wait and friends) stay calls.
#
# User instructions per op: Valgrind cachegrind (this machine has no PMU),
# each pair counted at N1 and N2 ops, (I refs(N2) - I refs(N1)) / (N2 - N1),
# so process start, ring setup and the read-4k test file cancel out.
# Wall ns/op: the timed loop of an N2 run, REPEAT interleaved rounds over
# every pair and profile (so load from elsewhere spreads over all rows);
# the median and the min-max spread. sys ns/op: getrusage, median.
set -euo pipefail

cd "$(dirname "$0")/.."
BENCH_DIR=io-uring-bench
REPEAT=${REPEAT:-5}
NOP_N1=${NOP_N1:-100000}
NOP_N2=${NOP_N2:-600000}
READ_N1=${READ_N1:-20000}
READ_N2=${READ_N2:-120000}
PROFILES=(bench-lto release)

# Rows: "workload lib variant binary-workload" (variant "-" for none).
ROWS=(
	"nop-batch urix - nop-batch"
	"nop-batch urix batch-API nop-batch-api"
	"nop-batch urix batch-API+fold nop-batch-fold"
	"nop-batch urix fast-preset nop-batch-fast"
	"nop-batch urix batch-API+fast-preset nop-batch-api-fast"
	"nop-batch io-uring - nop-batch"
	"nop-batch rustix-uring - nop-batch"
	"nop-batch liburing - nop-batch"
	"nop-single urix - nop-single"
	"nop-single urix fast-preset nop-single-fast"
	"nop-single io-uring - nop-single"
	"nop-single rustix-uring - nop-single"
	"nop-single liburing - nop-single"
	"read-4k urix - read-4k"
	"read-4k urix fast-preset read-4k-fast"
	"read-4k io-uring - read-4k"
	"read-4k rustix-uring - read-4k"
	"read-4k liburing - read-4k"
	"sqpoll-nop urix - sqpoll-nop"
	"sqpoll-nop io-uring - sqpoll-nop"
	"sqpoll-nop rustix-uring - sqpoll-nop"
	"sqpoll-nop liburing - sqpoll-nop"
)

log() { printf '%s\n' "$*" >&2; }

for tool in valgrind cc; do
	command -v $tool >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq valgrind gcc >/dev/null; }
done
if [ ! -e /usr/include/liburing.h ]; then
	apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq liburing-dev >/dev/null
fi
LIBURING_VERSION=$(dpkg-query -W -f '${Version}' liburing-dev 2>/dev/null || echo unknown)

cargo build --release -p io-uring-bench --bins
cargo build --profile bench-lto -p io-uring-bench --bin bench-one
TARGET=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
CHART=$TARGET/release/chart
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
CFLAGS_release="-O2"
CFLAGS_bench_lto="-O2 -flto"
for profile in "${PROFILES[@]}"; do
	var=CFLAGS_${profile//-/_}
	cc ${!var} -Wall -o "$TMP/bench-liburing-$profile" $BENCH_DIR/liburing/bench-liburing.c -l:liburing.a
done

# bin PROFILE LIB: the benchmark binary of a library in a profile.
bin() {
	if [ "$2" = liburing ]; then
		echo "$TMP/bench-liburing-$1"
	elif [ "$1" = release ]; then
		echo "$TARGET/release/bench-one"
	else
		echo "$TARGET/$1/bench-one"
	fi
}

ops() {
	case $1 in
	read-4k*) echo "$READ_N1 $READ_N2" ;;
	*) echo "$NOP_N1 $NOP_N2" ;;
	esac
}

# count BIN LIB WORKLOAD OPS: user instructions of a whole run.
count() {
	valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null --log-file="$TMP/cg" \
		"$1" --lib "$2" --workload "$3" --ops "$4" >/dev/null 2>"$TMP/err" || { cat "$TMP/err" "$TMP/cg" >&2; return 1; }
	awk '/I +refs:/ { gsub(/,/, "", $NF); u = $NF } END { if (u !~ /^[0-9]+$/) exit 1; print u }' "$TMP/cg"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

START=$(date +%s)
# The read-4k file first, so that no counted run creates it.
"$(bin release urix)" --lib urix --workload read-4k --ops 1 >/dev/null 2>&1

declare -A USER
for profile in "${PROFILES[@]}"; do
	for row in "${ROWS[@]}"; do
		read -r workload lib variant w <<<"$row"
		read -r n1 n2 <<<"$(ops "$w")"
		log "run.sh: counting $profile $lib $w"
		b=$(bin "$profile" "$lib")
		c1=$(count "$b" "$lib" "$w" "$n1")
		c2=$(count "$b" "$lib" "$w" "$n2")
		per_op=$(awk -v a="$c1" -v b="$c2" -v n="$((n2 - n1))" 'BEGIN { printf "%.2f", (b - a) / n }')
		awk -v x="$per_op" 'BEGIN { exit !(x > 0 && x < 10000) }' || { log "run.sh: implausible count $per_op for $profile $lib $w"; exit 1; }
		USER[$profile/$lib/$w]=$per_op
	done
done

for round in $(seq "$REPEAT"); do
	log "run.sh: wall clock, round $round of $REPEAT"
	for profile in "${PROFILES[@]}"; do
		for row in "${ROWS[@]}"; do
			read -r workload lib variant w <<<"$row"
			read -r _ n2 <<<"$(ops "$w")"
			"$(bin "$profile" "$lib")" --lib "$lib" --workload "$w" --ops "$n2" >"$TMP/line" 2>"$TMP/err" ||
				{ cat "$TMP/err" >&2; exit 1; }
			awk '{ print $4 }' "$TMP/line" >>"$TMP/wall.$profile.$lib.$w"
			awk '$2 == "cpu" { print $6 }' "$TMP/err" >>"$TMP/sys.$profile.$lib.$w"
		done
	done
done

CSV=$BENCH_DIR/results.csv
echo "profile,workload,lib,variant,user_instr_per_op,wall_ns_per_op,wall_min_ns,wall_max_ns,sys_ns_per_op" >"$TMP/csv"
for profile in "${PROFILES[@]}"; do
	for row in "${ROWS[@]}"; do
		read -r workload lib variant w <<<"$row"
		f=$TMP/wall.$profile.$lib.$w
		v=${variant//-/ }
		[ "$variant" = - ] && v=
		echo "$profile,$workload,$lib,$v,${USER[$profile/$lib/$w]},$(median <"$f"),$(sort -g "$f" | head -n 1),$(sort -g "$f" | tail -n 1),$(median <"$TMP/sys.$profile.$lib.$w")" >>"$TMP/csv"
	done
done
ELAPSED=$(($(date +%s) - START))
cp "$TMP/csv" "$CSV"
"$CHART" svg "$CSV" >"$BENCH_DIR/results.svg"

{
	echo "# io-uring-bench results"
	echo
	echo "urix against io-uring 0.7.14, rustix-uring 0.6.0 and liburing $LIBURING_VERSION (Debian's"
	echo "liburing-dev: the newest this machine can have, since nothing but the Debian, crates.io,"
	echo "PyPI and npm registries can be reached), every library built with the same profile, in two"
	echo "profiles. Written by \`io-uring-bench/run.sh\`; the chart is \`results.svg\`, the raw"
	echo "figures \`results.csv\`."
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- kernel: $(uname -sr)"
	echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(nproc) CPUs; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- rustc: $(rustc --version); C: $(cc --version | head -n 1)"
	echo "- urix: src/ as of commit $(git log -1 --format=%h -- src 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (with uncommitted changes)'), measured from $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "- run time of run.sh's measurements: ${ELAPSED} s"
	echo
	echo "![User-space instructions per operation, both profiles](results.svg)"
	echo
	"$CHART" table "$CSV"
	echo "## What the columns are"
	echo
	echo "- **user instr/op**: user-space instructions per operation, counted by Valgrind's"
	echo "  cachegrind (\`I refs\`; this machine is a VM without a PMU, so \`perf stat\` cannot count"
	echo "  and kernel instructions are not measured). (count(N2) - count(N1)) / (N2 - N1) with"
	echo "  N1 = $NOP_N1 and N2 = $NOP_N2 ops for the NOP workloads, N1 = $READ_N1 and N2 = $READ_N2"
	echo "  for read-4k, over the whole process, so setup cancels out. Includes the workload's own"
	echo "  loop and checks, which are the same for every library."
	echo "- **/ best peer**: user instr/op over the lowest of io-uring's, rustix-uring's and"
	echo "  liburing's in the same profile and workload."
	echo "- **wall ns/op**: the timed loop of an N2 run, median of $REPEAT interleaved rounds over"
	echo "  every row of both profiles; **wall min–max** is the spread of those rounds. The machine"
	echo "  is shared (2 CPUs), so wall figures carry its load; instruction counts do not."
	echo "- **/ urix plain**: a urix row's wall ns/op over plain urix's in the same profile and"
	echo "  workload: the gain of the batch API and of the fast preset."
	echo "- **sys ns/op**: system CPU time per op (getrusage around the timed loop, all threads;"
	echo "  median), a rough stand-in for the kernel's side."
	echo "- Every op is checked in the measured loop: NOPs complete with result 0, with their own"
	echo "  user data, in submission order; reads return 4096 bytes that start with the block"
	echo "  number. A failed check stops the run."
	echo
	echo "## Workloads"
	echo
	echo "- nop-batch: ring of 64, 32 NOPs pushed one \`push\` at a time, submit_and_wait(32), drained."
	echo "  *batch API*: the 32 NOPs written by one \`SubmissionQueue::push_with\`."
	echo "- nop-single: ring of 8, one NOP: push, submit_and_wait(1), pop."
	echo "- read-4k: 4 KiB reads at xorshift64 block offsets of a 64 MiB file in page cache"
	echo "  (\`\$TMPDIR/io-uring-bench-read-4k.dat\`), 32 in flight (QD32), refilled as they complete."
	echo "- sqpoll-nop: SQPOLL ring of 256 (idle 1000 ms), batches of 64 NOPs."
	echo "- *fast preset*: the same on \`IoUring::fast\` (SINGLE_ISSUER + DEFER_TASKRUN + NO_SQARRAY,"
	echo "  ring fd registered; SQ_REWIND too on 7.0 and later, which this kernel is not: what it"
	echo "  changes is measured on 7.3 under QEMU by \`io-uring-bench/rewind-vm.sh\`, in REWIND.md)."
	echo "- liburing: \`io-uring-bench/liburing/bench-liburing.c\`, the same loops and checks with"
	echo "  io_uring_get_sqe / io_uring_prep_* / io_uring_submit_and_wait / io_uring_for_each_cqe."
	echo
	echo "## Commands"
	echo
	echo "\`\`\`sh"
	echo "io-uring-bench/run.sh   # REPEAT=$REPEAT NOP_N1=$NOP_N1 NOP_N2=$NOP_N2 READ_N1=$READ_N1 READ_N2=$READ_N2"
	echo "\`\`\`"
	echo
	echo "builds \`cargo build --release -p io-uring-bench --bins\`, \`cargo build --profile bench-lto"
	echo "-p io-uring-bench --bin bench-one\` and \`cc {-O2 | -O2 -flto} -o bench-liburing"
	echo "io-uring-bench/liburing/bench-liburing.c -l:liburing.a\`, then for every row and profile:"
	echo
	echo "\`\`\`sh"
	echo "valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null BIN --lib LIB --workload W --ops N1"
	echo "valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null BIN --lib LIB --workload W --ops N2"
	echo "BIN --lib LIB --workload W --ops N2   # $REPEAT rounds, for the wall clock"
	echo "\`\`\`"
	echo
	echo "with BIN = \`target/bench-lto/bench-one\`, \`target/release/bench-one\` or the liburing"
	echo "build, and W the workload (\`nop-batch-api\`, \`*-fast\` for the urix variants)."
	echo "The criterion benchmarks (Rust libraries, release profile): \`cargo bench -p io-uring-bench\`."
} >"$BENCH_DIR/RESULTS.md"
# The owned layer's cost: the raw ring against urix::owned for the same
# work (io-uring-bench/src/bin/owned_cost.rs, the same cachegrind method),
# in both profiles, appended to RESULTS.md.
log "run.sh: the owned layer's cost"
cargo build --release -p io-uring-bench --bin owned_cost
cargo build --profile bench-lto -p io-uring-bench --bin owned_cost
{
	echo
	echo "## The owned layer's cost"
	echo
	echo "User instructions per operation (cachegrind, runs of 20,000 and 40,000 ops) of"
	echo "\`io-uring-bench/src/bin/owned_cost.rs\`: the same work on the raw ring (\`unsafe push\`,"
	echo "drain the CQ) and on \`urix::owned\` (\`Driver::push\` of an owned \`Nop\` or \`Read\`, \`submit_and_wait\`,"
	echo "\`reap\`, \`try_take\` of each ticket), and \"one-step\": \`Driver::push\`, \`submit_and_wait\`,"
	echo "\`reap_outputs\` (each output handed to a closure as its completion is reaped, no ticket kept)."
	echo "nop-batch: 32 NOPs per submit; nop-single: one; read-4k:"
	echo "one 4 KiB read of a file at offset 0 per submit (not the QD32 read-4k above)."
	echo
	echo "| profile | workload | raw | owned | owned - raw | one-step | one-step - raw |"
	echo "|---|---|---:|---:|---:|---:|---:|"
	"$TARGET/bench-lto/owned_cost" --rows "fat LTO (bench-lto)"
	"$TARGET/release/owned_cost" --rows "release"
} >>"$BENCH_DIR/RESULTS.md"
log "run.sh: wrote $BENCH_DIR/RESULTS.md, $CSV and $BENCH_DIR/results.svg in ${ELAPSED} s"
