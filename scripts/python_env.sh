#!/usr/bin/env bash
# Creates, once, the Python venv of the Ray cluster tool and the ONNX
# converters: build/venv-cluster, Debian's python3 (python3-venv) plus the
# pinned PyPI packages of scripts/requirements-cluster.txt. Run again, it does
# nothing unless that file changed. Prints the venv's python on the last line.
#
#   scripts/python_env.sh [--dir DIR]     (default: build/venv-cluster)
#
# Measured on 2026-11-29 (Debian 12, 2 shared cores, others building):
# 131 MB downloaded (23 wheels), 468 MB on disk, 40-110 s.
set -euo pipefail
cd "$(dirname "$0")/.."
dir=build/venv-cluster
case ${1:-} in
    --dir) [ $# -ge 2 ] || { echo "python_env.sh: --dir needs a value" >&2; exit 2; }; dir=$2 ;;
    '') ;;
    *) echo "usage: scripts/python_env.sh [--dir DIR]" >&2; exit 2 ;;
esac
req=scripts/requirements-cluster.txt
stamp=$dir/.espcn-requirements
# Debian's interpreter: a pyenv python3 on PATH may lack ensurepip or differ by machine.
py=/usr/bin/python3
[ -x "$py" ] || py=$(command -v python3)
# The requirement lines alone decide (a comment edited in the file changes nothing).
wanted=$(grep -v '^[[:space:]]*\(#\|$\)' "$req")
if [ -f "$stamp" ] && [ "$wanted" = "$(cat "$stamp")" ] &&
        "$dir/bin/python" -c "import ray, onnx, onnxruntime, numpy" 2>/dev/null; then
    echo "$PWD/$dir/bin/python"
    exit 0
fi
echo "python_env.sh: creating $dir from $req (PyPI)" >&2
rm -rf "$dir"
"$py" -m venv "$dir" || { echo "python_env.sh: '$py -m venv' failed (Debian: apt-get install python3-venv)" >&2; exit 1; }
"$dir/bin/python" -m pip install --quiet --disable-pip-version-check --requirement "$req" >&2 ||
    { echo "python_env.sh: pip install -r $req failed (is PyPI reachable?)" >&2; exit 1; }
printf '%s\n' "$wanted" > "$stamp"
echo "$PWD/$dir/bin/python"
