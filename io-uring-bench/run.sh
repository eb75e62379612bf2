#!/usr/bin/env bash
# Runs every (library, workload) of io-uring-bench under an instruction
# counter and on the wall clock, and writes io-uring-bench/RESULTS.md,
# io-uring-bench/results.csv and io-uring-bench/results.svg.
#
# Instructions per op: each pair is counted twice, with N1 and N2 ops, and
# the figure is (count(N2) - count(N1)) / (N2 - N1), so that process start,
# ring setup and the read-4k test file cancel out. The counter is
# `perf stat -e instructions:u,instructions:k`; where perf has no hardware
# counters (a VM without a virtual PMU), user instructions come from
# Valgrind's cachegrind (`I refs`, no cache simulation) and kernel
# instructions are not measured. COUNTER=perf or COUNTER=cachegrind forces
# one.
#
# Wall ns/op: bench-one's own figure for an N2 run (its timed loop only),
# the median of REPEAT runs (in rounds over all pairs); sys ns/op likewise, from getrusage around the
# timed loop (all threads, so an SQPOLL thread's time counts).
#
# Usage: io-uring-bench/run.sh   (from anywhere; takes a few minutes)
set -euo pipefail

cd "$(dirname "$0")/.."
BENCH_DIR=io-uring-bench
REPEAT=${REPEAT:-5}
NOP_N1=${NOP_N1:-200000}
NOP_N2=${NOP_N2:-2200000}
READ_N1=${READ_N1:-50000}
READ_N2=${READ_N2:-550000}

# (library, workload) pairs, in table order.
PAIRS=(
	"urix nop-batch" "io-uring nop-batch" "rustix-uring nop-batch"
	"urix nop-single" "io-uring nop-single" "rustix-uring nop-single"
	"urix read-4k" "io-uring read-4k" "rustix-uring read-4k"
	"urix sqpoll-nop" "io-uring sqpoll-nop" "rustix-uring sqpoll-nop"
	"urix nop-single-fast" "urix read-4k-fast"
)

log() { printf '%s\n' "$*" >&2; }

cargo build --release -p io-uring-bench --bins
TARGET=$(cargo metadata --format-version 1 --no-deps | sed -n 's/.*"target_directory":"\([^"]*\)".*/\1/p')
BIN=$TARGET/release/bench-one
CHART=$TARGET/release/chart
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT
COMMANDS=$TMP/commands

if [ -z "${COUNTER:-}" ]; then
	probe=$(perf stat -x, -e instructions:u true 2>&1 >/dev/null | head -n 1 | cut -d, -f1 || true)
	case $probe in
	'' | *[!0-9]*) COUNTER=cachegrind ;;
	*) COUNTER=perf ;;
	esac
fi
log "run.sh: counting instructions with $COUNTER"

# count LIB WORKLOAD OPS: prints "user kernel" instructions for the whole
# process ("user -" when the kernel side cannot be counted).
count() {
	local args=(--lib "$1" --workload "$2" --ops "$3") out=$TMP/count
	if [ "$COUNTER" = perf ]; then
		echo "perf stat -x, -o OUT -e instructions:u,instructions:k -- bench-one ${args[*]}" >>"$COMMANDS"
		perf stat -x, -o "$out" -e instructions:u,instructions:k -- "$BIN" "${args[@]}" >/dev/null 2>"$TMP/err" ||
			{ cat "$TMP/err" >&2; return 1; }
		awk -F, '$3 ~ /^instructions:u/ { u = $1 } $3 ~ /^instructions:k/ { k = $1 }
			END { if (u !~ /^[0-9]+$/ || k !~ /^[0-9]+$/) exit 1; print u, k }' "$out"
	else
		echo "valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null --log-file=OUT bench-one ${args[*]}" >>"$COMMANDS"
		valgrind --tool=cachegrind --cache-sim=no --cachegrind-out-file=/dev/null --log-file="$out" \
			"$BIN" "${args[@]}" >/dev/null 2>"$TMP/err" || { cat "$TMP/err" "$out" >&2; return 1; }
		awk '/I +refs:/ { gsub(/,/, "", $NF); u = $NF } END { if (u !~ /^[0-9]+$/) exit 1; print u, "-" }' "$out"
	fi
}

# median: the middle of the numbers on stdin.
median() { sort -g | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

CSV=$BENCH_DIR/results.csv
echo "workload,lib,user_instr_per_op,kernel_instr_per_op,wall_ns_per_op,sys_ns_per_op" >"$TMP/csv"
START=$(date +%s)

ops() {
	case $1 in
	read-4k*) echo "$READ_N1 $READ_N2" ;;
	*) echo "$NOP_N1 $NOP_N2" ;;
	esac
}

# Instructions: each pair at N1 and N2 ops.
UINSTR=()
KINSTR=()
i=0
for pair in "${PAIRS[@]}"; do
	read -r lib workload <<<"$pair"
	read -r n1 n2 <<<"$(ops "$workload")"
	log "run.sh: counting $lib $workload"
	c1=$(count "$lib" "$workload" "$n1")
	c2=$(count "$lib" "$workload" "$n2")
	read -r u1 k1 <<<"$c1"
	read -r u2 k2 <<<"$c2"
	UINSTR[i]=$(awk -v a="$u1" -v b="$u2" -v n="$((n2 - n1))" 'BEGIN { printf "%.2f", (b - a) / n }')
	KINSTR[i]=
	if [ "$k1" != - ]; then
		KINSTR[i]=$(awk -v a="$k1" -v b="$k2" -v n="$((n2 - n1))" 'BEGIN { printf "%.2f", (b - a) / n }')
	fi
	i=$((i + 1))
done

# Wall clock: REPEAT rounds over all pairs, so that a change in the load
# the machine carries spreads over every library instead of hitting one.
for round in $(seq "$REPEAT"); do
	log "run.sh: wall clock, round $round of $REPEAT"
	i=0
	for pair in "${PAIRS[@]}"; do
		read -r lib workload <<<"$pair"
		read -r _ n2 <<<"$(ops "$workload")"
		if [ "$round" = 1 ]; then
			echo "bench-one --lib $lib --workload $workload --ops $n2" >>"$COMMANDS.wall"
		fi
		"$BIN" --lib "$lib" --workload "$workload" --ops "$n2" >"$TMP/line" 2>"$TMP/err" ||
			{ cat "$TMP/err" >&2; exit 1; }
		awk '{ print $4 }' "$TMP/line" >>"$TMP/wall.$i"
		awk '$2 == "cpu" { print $6 }' "$TMP/err" >>"$TMP/sys.$i"
		i=$((i + 1))
	done
done

i=0
for pair in "${PAIRS[@]}"; do
	read -r lib workload <<<"$pair"
	echo "$workload,$lib,${UINSTR[i]},${KINSTR[i]},$(median <"$TMP/wall.$i"),$(median <"$TMP/sys.$i")" >>"$TMP/csv"
	i=$((i + 1))
done
ELAPSED=$(($(date +%s) - START))
cp "$TMP/csv" "$CSV"
"$CHART" svg "$CSV" >"$BENCH_DIR/results.svg"

if [ "$COUNTER" = perf ]; then
	counter_note="\`perf stat -e instructions:u,instructions:k\` (hardware counters)."
else
	counter_note="Valgrind cachegrind (\`I refs\`, no cache simulation): \`perf stat\` reports
\`instructions:u\` and \`instructions:k\` as \`<not supported>\` on this machine (a VM
without a virtual PMU; the kernel logs \"PMU not available due to virtualization\"),
so user instructions are counted by emulation and kernel instructions are not
measured (n/a). \`sys ns/op\` stands in for the kernel side: system CPU time from
getrusage around the timed loop, split from user time by tick sampling, so
take it as a rough figure."
fi

{
	echo "# io-uring-bench results"
	echo
	echo "urix against io-uring 0.7.14 and rustix-uring 0.6.0, written by"
	echo "\`io-uring-bench/run.sh\`; the chart is \`results.svg\`, the raw figures \`results.csv\`."
	echo
	echo "- date: $(date -u '+%Y-%m-%d %H:%M UTC')"
	echo "- kernel: $(uname -sr)"
	echo "- CPU: $(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -n 1), $(nproc) CPUs; load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
	echo "- rustc: $(rustc --version)"
	echo "- urix: src/ as of commit $(git log -1 --format=%h -- src 2>/dev/null || echo unknown)$(git diff --quiet HEAD -- src 2>/dev/null || echo ' (with uncommitted changes)'), measured from $(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
	echo "- instruction counter: $counter_note"
	echo "- run time of run.sh's measurements: ${ELAPSED} s"
	echo
	echo "![User-space instructions per operation](results.svg)"
	echo
	"$CHART" table "$CSV"
	echo
	echo "## What the columns are"
	echo
	echo "- **user instr/op**, **kernel instr/op**: (count(N2) - count(N1)) / (N2 - N1) with"
	echo "  N1 = $NOP_N1 and N2 = $NOP_N2 ops for the NOP workloads, N1 = $READ_N1 and"
	echo "  N2 = $READ_N2 for read-4k; counted over the whole process, so setup cancels out."
	echo "- **wall ns/op**: bench-one's timed loop over N2 ops, median of $REPEAT runs (taken in"
	echo "  rounds over all rows, so that load from elsewhere spreads over every library)."
	echo "- **sys ns/op**: system CPU time per op over the same runs (getrusage; median)."
	echo "- **user instr / best of io-uring, rustix-uring**: this row's user instr/op over the"
	echo "  lower of io-uring's and rustix-uring's in the same workload (for a \`-fast\` row,"
	echo "  in the workload it is the fast preset of)."
	echo "- **wall / io-uring**: likewise, against io-uring's wall ns/op."
	echo "- Every op is checked in the measured loop (NOP results 0 and every user data back"
	echo "  once; reads return 4096 bytes that start with the block number); a failed check"
	echo "  stops the run."
	echo
	echo "## Workloads"
	echo
	echo "- nop-batch: ring of 64, 32 NOPs pushed, submit_and_wait(32), drained."
	echo "- nop-single: ring of 8, one NOP: push, submit_and_wait(1), pop."
	echo "- read-4k: 4 KiB reads at xorshift64 block offsets of a 64 MiB file in page cache"
	echo "  (\`\$TMPDIR/io-uring-bench-read-4k.dat\`), 32 in flight, refilled as they complete."
	echo "- sqpoll-nop: SQPOLL ring of 256 (idle 1000 ms), batches of 64 NOPs."
	echo "- nop-single-fast, read-4k-fast: urix only, the same on a ring with"
	echo "  SINGLE_ISSUER + DEFER_TASKRUN + NO_SQARRAY and the ring fd registered."
	echo
	echo "## Commands"
	echo
	echo "\`\`\`sh"
	echo "io-uring-bench/run.sh   # REPEAT=$REPEAT NOP_N1=$NOP_N1 NOP_N2=$NOP_N2 READ_N1=$READ_N1 READ_N2=$READ_N2 COUNTER=$COUNTER"
	echo "\`\`\`"
	echo
	echo "which built \`cargo build --release -p io-uring-bench --bins\` and ran, with"
	echo "\`bench-one\` = \`$(realpath --relative-to=. "$BIN")\`, to count instructions:"
	echo
	echo "\`\`\`sh"
	cat "$COMMANDS"
	echo "\`\`\`"
	echo
	echo "and for the wall clock, $REPEAT rounds of:"
	echo
	echo "\`\`\`sh"
	cat "$COMMANDS.wall"
	echo "\`\`\`"
	echo
	echo "The criterion benchmarks (same workloads, one run for all three libraries):"
	echo "\`cargo bench -p io-uring-bench\`."
} >"$BENCH_DIR/RESULTS.md"
log "run.sh: wrote $BENCH_DIR/RESULTS.md, $CSV and $BENCH_DIR/results.svg in ${ELAPSED} s"
