#!/usr/bin/env bash
# Compiles the oneDNN-facing sources against oneDNN 3.x headers (Debian 13's
# libdnnl-dev, fetched with a private apt state and unpacked, not installed),
# so the version-gated API in kernels/cpu/onednn_compat.hpp stays correct for
# both series while the machine itself has 2.x. Syntax/semantic check only.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/private_apt.sh
suite=${ESPCN_ONEDNN3_SUITE:-trixie}
work=${TMPDIR:-/tmp}/espcn-onednn3-$suite
espcn_unpack_packages "$work" "$suite" "" libdnnl-dev || exit 3
version=$(awk '/define DNNL_VERSION_MAJOR/{a=$3} /define DNNL_VERSION_MINOR/{b=$3} END{print a "." b}' \
          "$work/root/usr/include/oneapi/dnnl/dnnl_version.h")
echo "== oneDNN $version headers from $suite's libdnnl-dev"
inc="$work/root/usr/include"
# dnnl_config.h lives in an arch directory in some packagings.
for d in "$work"/root/usr/include/*-linux-gnu; do [ -d "$d" ] && inc="$inc -I$d"; done
# shellcheck disable=SC2086
seen=$(printf '#include <oneapi/dnnl/dnnl_version.h>\nDNNL_VERSION_MAJOR\n' |
       g++ -E -P -x c++ -isystem ${inc} - | tail -n 1)
[ "$seen" = "${version%%.*}" ] || { echo "compiler saw oneDNN major $seen, not $version" >&2; exit 1; }
for src in kernels/cpu/onednn_backend.cpp kernels/cpu/upsampler_variants.cpp; do
    # shellcheck disable=SC2086
    g++ -std=c++20 -fsyntax-only -fopenmp -Wall -Wextra -Wpedantic -Wshadow -Werror \
        -isystem ${inc} -Ikernels/include -Ikernels "$src"
    echo "   $src: ok"
done
