#!/usr/bin/env bash
# PyTorch 2.x from PyPI for weights/train/, in a venv (never the system python).
#
#   scripts/train_venv.sh [--full] [--venv DIR]      (default DIR: .venv-torch2)
#   DIR/bin/train-python weights/train/train.py --config weights/train/configs/lrnet_x2.json
#
# PyPI's Linux torch wheel is built for CUDA and depends on ~3-4 GB of NVIDIA runtime wheels.
# Default ("lean"): the torch wheel without its dependencies, its pure-Python dependencies,
# and only the four NVIDIA libraries a CUDA 13 toolkit does not ship (cuFile, cuSPARSELt, NCCL,
# NVSHMEM, ~0.5 GB); the rest (cudart, cuBLAS, cuDNN, ...) come from the machine's CUDA 13
# toolkit on the loader path (/usr/local/cuda here). Training on the CPU never calls them,
# but libtorch links them. --full: `pip install torch` with every dependency, for a machine
# without a CUDA 13 toolkit (or to train on a GPU with PyPI's own CUDA libraries).
# Python deps pinned; the venv sees the system's numpy, Pillow and tqdm (Debian packages).
set -euo pipefail
TORCH_VERSION=2.15.0
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv=$root/.venv-torch2
full=0
while [ $# -gt 0 ]; do
    case $1 in
    --full) full=1 ;;
    --venv) venv=$(realpath -m "$2"); shift ;;
    *) echo "usage: $0 [--full] [--venv DIR]" >&2; exit 2 ;;
    esac
    shift
done
/usr/bin/python3 -c 'import venv' 2>/dev/null || { echo "$0: needs python3-venv (apt-get install python3-venv)" >&2; exit 1; }
[ -x "$venv/bin/python" ] || /usr/bin/python3 -m venv --system-site-packages "$venv"
pip=("$venv/bin/pip" install --disable-pip-version-check -q)
if [ $full = 1 ]; then
    "${pip[@]}" "torch==$TORCH_VERSION"
else
    "${pip[@]}" --no-deps "torch==$TORCH_VERSION"
    # torch's pure-Python requirements, newer than Debian 12's (hence --ignore-installed)
    "${pip[@]}" --ignore-installed "typing-extensions>=4.13" "sympy>=1.13.3" "networkx>=2.5.1" jinja2 filelock "fsspec>=0.8.5"
    "${pip[@]}" --no-deps nvidia-cufile "nvidia-cusparselt-cu13==0.8.1" "nvidia-nccl-cu13==2.30.7" "nvidia-nvshmem-cu13==3.7.2"
fi
site=$("$venv/bin/python" -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')
cat > "$venv/bin/train-python" <<WRAP
#!/bin/sh
# The venv's python with the NVIDIA libraries of its wheels first on the loader path.
libs=\$(ls -d "$site"/nvidia/*/lib 2>/dev/null | tr '\n' ':')
LD_LIBRARY_PATH="\${libs}\${LD_LIBRARY_PATH:-}" exec "$venv/bin/python" "\$@"
WRAP
chmod +x "$venv/bin/train-python"
if ! "$venv/bin/train-python" -c 'import torch, numpy, PIL, tqdm; print("torch", torch.__version__, "cuda available:", torch.cuda.is_available())'; then
    echo "$0: torch does not import; without a CUDA 13 toolkit on the loader path use --full" >&2
    exit 1
fi
echo "use: $venv/bin/train-python weights/train/train.py --config ..."
