#!/usr/bin/env bash
# What IORING_SETUP_SQ_REWIND (7.0) saves: boots Debian's 7.3 kernel under
# QEMU (.ci/kernels, TCG: no KVM on these machines) with
# src/bin/bench-vm.rs in place of the test harness, and writes
# io-uring-bench/REWIND.md from its output. One command, from anywhere:
#
#   io-uring-bench/rewind-vm.sh      (ROUNDS=9 SCALE=1: a few minutes)
#
# The kernel on this machine (6.18) has no SQ_REWIND, so the comparison can
# only run in the VM. Under TCG every guest instruction is emulated: the
# times are many times those of real hardware and only their ratios mean
# anything. Valgrind cannot run in the initramfs, so user instructions are
# not counted there (REWIND.md says what differs on the user side).
set -euo pipefail
cd "$(dirname "$0")/.."
ROUNDS=${ROUNDS:-9}
SCALE=${SCALE:-1}

cargo build --profile bench-lto -p io-uring-bench --bin bench-vm
KERNELS_HARNESS=target/bench-lto/bench-vm .ci/kernels --kernel 7.3 -- --rounds "$ROUNDS" --scale "$SCALE" >&2 || {
    echo "rewind-vm.sh: the VM run failed" >&2
    exit 1
}
console=$(ls -t target/kernels/console-7.3*.log | head -n 1)
out=io-uring-bench/REWIND.md
{
    echo "# SQ_REWIND against the same ring without it (Linux 7.3, under QEMU)"
    echo
    echo "Written by \`io-uring-bench/rewind-vm.sh\` (ROUNDS=$ROUNDS SCALE=$SCALE) on $(date -u '+%Y-%m-%d %H:%M UTC'),"
    echo "urix src/ as of commit $(git log -1 --format=%h -- src)$(git diff --quiet HEAD -- src || echo ' (with uncommitted changes)'),"
    echo "\`bench-vm\` built with the bench-lto profile (fat LTO)."
    echo
    echo "Both rings have SINGLE_ISSUER and NO_SQARRAY (SQ_REWIND needs NO_SQARRAY in the kernel and"
    echo "SINGLE_ISSUER in urix); *rewind* adds SQ_REWIND. The workloads are io-uring-bench's"
    echo "(nop-batch: 32 NOPs per submit_and_wait on a ring of 64; nop-single: one NOP per"
    echo "submit_and_wait; read-4k: 4 KiB page-cache reads, 32 in flight, here on ext4 in the VM),"
    echo "every completion checked. Each round runs both rings once, in alternating order."
    echo
    echo "**The VM is QEMU without KVM (TCG)**: guest instructions are emulated, so the absolute"
    echo "times are far from real hardware's and only the ratios between the two rings, measured"
    echo "in the same rounds, mean something. user and sys are getrusage's CPU times around the"
    echo "timed loop; wall is the loop's elapsed time. Medians over the rounds; the ratio line is"
    echo "the median of the per-round ratios rewind / noarray (below 1: SQ_REWIND is cheaper)."
    echo
    echo '```'
    grep -a '^bench-vm:' "$console" | sed 's/^bench-vm: //'
    echo '```'
    echo
    echo "## The user side, which the VM cannot count"
    echo
    echo "Valgrind does not run in the VM's initramfs and this machine's 6.18 refuses SQ_REWIND, so"
    echo "no run counts the rewind ring's user instructions. What differs, read off the bench-lto"
    echo "build (\`objdump -d target/bench-lto/bench-one\`): pushing is the same code on both rings"
    echo "(the view tests its tail pointer once when created and once when dropped on both); a"
    echo "SubmissionQueue that drops publishes with a call to \`squeue::publish_rewind\` (about 20"
    echo "instructions and a locked compare-and-swap) where the plain ring stores its tail (1), and"
    echo "\`submit_and_wait\` runs the out-of-line \`submit::submit_rewind\` (about 60 instructions with"
    echo "the call, register saves and a second compare-and-swap) where the plain ring's inlined path"
    echo "takes about 30. So SQ_REWIND costs user space about 50 instructions per submission: about"
    echo "1.6 per op at 32 per batch, about 50 per single NOP. The kernel side (sys) is what it saves:"
    echo "no SQ head or tail to read or write, and the first SQE slots stay in cache."
} >"$out"
echo "rewind-vm.sh: wrote $out" >&2
