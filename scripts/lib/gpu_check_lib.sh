# Parts of scripts/gpu_check.sh that are checked on any machine
# (tests/tools/test_gpu_check_lib.sh): the step table, reading
# compute-sanitizer's verdict, and what the device tool would transfer.
# Sourced; defines functions, the array GPU_CHECK_STEPS and two limits only.

# The steps of --run, in order (performance first): name, time cap in seconds,
# the question it answers (a-e of issue 21, "cpu", or "-"), what it runs.
# The caps add up to at most GPU_CHECK_BUDGET_S; --plan prints this table.
GPU_CHECK_BUDGET_S=300
# The device tool's transfer limit: the checkout (tracked + untracked-not-ignored
# files) and the carried paths together.
GPU_TRANSFER_LIMIT=$((64 * 1048576))
GPU_CHECK_STEPS=(
    "env|8|-|GPU, driver, CUDA runtime, cuDNN, compute-sanitizer, torch; the prepared binaries load"
    "device_fps|36|c|espcn-bench --cuda on lrnet-x2, x3, x4 at 1920x1080, fp32 and fp16: device-resident fps (+ host frames, roofline)"
    "pytorch|30|c|bench/pytorch_peer.py on the same three files (residual included): fp16 channels_last CUDA graph"
    "streams|45|e|bench/gpu_streams.py: N ffmpeg 1080p30 -> 2160p (x2) at once, N raised until one falls below 30 fps"
    "ffmpeg|35|d|bench/ffmpeg_gpu_e2e.sh 1080p x2: host frames, hwupload_cuda, -hwaccel cuda; PSNR against the CPU's output"
    "cpu|30|cpu|espcn's CPU path on this host's CPU, --threads 2: lrnet x2 (x3, x4), 640x360 and 1920x1080, fp32/bf16, planner/forced ISA"
    "tests|35|-|test_cudnn_loader, test_cuda_kernels, test_cuda_backend (everything else's correctness, bands, fallback)"
    "accuracy|45|a|espcn-compare: every shipped model, cuda fp32 and fp16 vs the reference, 1920x1080 luma, 8/10/16 bits"
    "sanitizers|28|b|compute-sanitizer memcheck (leak check) and initcheck on test_cuda_backend (subset), memcheck on ffmpeg with CUDA frames"
)

# gpu_check_plan: prints every step with its cap and the total; fails (1)
# when the caps exceed the budget.
gpu_check_plan() {
    local total=0 line name cap q what
    printf '%-3s %-11s %5s  %-4s %s\n' '#' step 'cap s' ans what
    local i=0
    for line in "${GPU_CHECK_STEPS[@]}"; do
        IFS='|' read -r name cap q what <<<"$line"
        i=$((i + 1))
        total=$((total + cap))
        printf '%-3s %-11s %5s  %-4s %s\n' "$i" "$name" "$cap" "$q" "$what"
    done
    printf '    %-11s %5s  (budget %s s: the whole run, start to results file)\n' total "$total" "$GPU_CHECK_BUDGET_S"
    echo "questions answered (issue 21):"
    echo "  (a) every shipped model, cuda fp32 and fp16 vs the reference backend, 1080p luma, 8/10/16 bits: max code difference, PSNR; fp32 <= 1 code  [accuracy]"
    echo "  (b) compute-sanitizer memcheck (leak check) and initcheck over test_cuda_backend and one ffmpeg run with CUDA frames, or 'skipped: <reason>'  [sanitizers]"
    echo "  (c) device-resident fps of lrnet-x2/x3/x4 at 1920x1080, fp32 and fp16, beside PyTorch fp16 channels_last CUDA graph of the same network  [device_fps, pytorch]"
    echo "  (d) ffmpeg -vf espcn 1080p x2 end to end: host frames, hwupload_cuda, -hwaccel cuda (where NVDEC is), each with PSNR against the CPU output  [ffmpeg]"
    echo "  (e) concurrent 1080p30 -> 2160p streams: the largest N that holds 30 fps  [streams]"
    echo "  (cpu) espcn's CPU path on the GPU host's CPU at --threads 2 (issue 19)  [cpu]"
    [ "$total" -le "$GPU_CHECK_BUDGET_S" ]
}

# sanitizer_verdict TOOL LOG: reads compute-sanitizer's output in LOG and
# prints one line; returns 0 clean, 1 errors (or no summary), 3 the tool
# cannot run on this machine (gVisor: "Device not supported").
#   memcheck, initcheck, synccheck: "========= ERROR SUMMARY: 0 errors"
#     (memcheck with --leak-check full also prints "LEAK SUMMARY: 0 bytes
#     leaked in 0 allocations" when nothing leaked)
#   racecheck: "========= RACECHECK SUMMARY: 0 hazards displayed (0 errors, 0 warnings)"
sanitizer_verdict() {
    local tool=$1 log=$2 line
    if grep -qiE 'Device not supported|unable to (initialize|attach)|Target application terminated before first instrumented|not supported on this (device|platform)' "$log"; then
        echo "skipped: compute-sanitizer cannot run here: $(grep -iE -m1 'not supported|unable to|terminated before' "$log" | sed 's/^=* *//')"
        return 3
    fi
    case $tool in
        racecheck)
            line=$(grep -E 'RACECHECK SUMMARY: ' "$log" | tail -n 1)
            [ -n "$line" ] || { echo "FAILED: no RACECHECK SUMMARY in the output"; return 1; }
            if grep -qE 'RACECHECK SUMMARY: 0 hazards displayed \(0 errors, 0 warnings\)' <<<"$line"; then
                echo "clean: ${line#*= }"
                return 0
            fi
            ;;
        *)
            line=$(grep -E 'ERROR SUMMARY: [0-9]+ error' "$log" | tail -n 1)
            [ -n "$line" ] || { echo "FAILED: no ERROR SUMMARY in the output"; return 1; }
            if grep -qE 'ERROR SUMMARY: 0 errors' <<<"$line"; then
                local leak
                leak=$(grep -E 'LEAK SUMMARY: ' "$log" | tail -n 1)
                if [ -n "$leak" ] && ! grep -qE 'LEAK SUMMARY: 0 bytes leaked' <<<"$leak"; then
                    echo "FAILED: ${leak#*= }"
                    return 1
                fi
                echo "clean: ${line#*= }${leak:+; ${leak#*= }}"
                return 0
            fi
            ;;
    esac
    echo "FAILED: ${line#*= }"
    return 1
}

# transfer_bytes REPO [PATH...]: bytes the device tool sends from REPO's
# checkout: its tracked files and untracked files git does not ignore (as
# they are in the working tree), plus the carried PATHs (folders or files,
# relative to REPO). The tool's limit, 64 MiB, is on this total.
transfer_bytes() {
    local repo=$1
    shift
    local tree carried=0 p
    tree=$(cd "$repo" && git ls-files -z --cached --others --exclude-standard |
        xargs -0 -r stat -c '%s' -- 2>/dev/null | awk '{ s += $1 } END { print s + 0 }')
    for p in "$@"; do
        [ -e "$repo/$p" ] || continue
        carried=$((carried + $(find "$repo/$p" -type f -printf '%s\n' | awk '{ s += $1 } END { print s + 0 }')))
    done
    echo $((tree + carried))
}

# transfer_check REPO LIMIT_BYTES PATH...: prints the tree, the carried
# paths, their sum and the limit; fails (1) over the limit.
transfer_check() {
    local repo=$1 limit=$2
    shift 2
    local tree total
    tree=$(transfer_bytes "$repo")
    total=$(transfer_bytes "$repo" "$@")
    awk -v t="$tree" -v c="$((total - tree))" -v s="$total" -v l="$limit" -v p="$*" 'BEGIN {
        printf "transfer: tracked + untracked-not-ignored tree %.1f MiB + carried (%s) %.1f MiB = %.1f MiB of the %.1f MiB limit (%.1f MiB left)\n",
               t / 1048576, p, c / 1048576, s / 1048576, l / 1048576, (l - s) / 1048576 }'
    [ "$total" -le "$limit" ]
}

# bundle_transfer_check REPO: --prepare's last check, what the device tool
# would send for the GPU run (REPO's tree + the carried build/gpu-check)
# against GPU_TRANSFER_LIMIT; prints it, fails (1) over the limit.
bundle_transfer_check() {
    transfer_check "$1" "$GPU_TRANSFER_LIMIT" build/gpu-check
}
