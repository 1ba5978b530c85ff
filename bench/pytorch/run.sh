#!/bin/sh
# Run the reference PyTorch VAE with the fair-baseline environment from
# /work/shared/notes/gomlx.md ("Speed"): Debian's torch under /usr/bin/python3
# (not a pyenv python3 earlier on PATH), OpenBLAS single-threaded (torch's own
# intra-op threads are --threads), and OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE
# unset for this command only, so OpenBLAS picks its best kernel for the CPU.
# Usage: bench/pytorch/run.sh [--epochs N] [--init pytorch|he] [--threads N] [--seed S] [--json]
#        bench/pytorch/run.sh SCRIPT.py [its flags]   (another script here, e.g. iwae_estimate.py)
# Prerequisite: apt-get install -y python3-torch libopenblas0-pthread
dir=$(cd "$(dirname "$0")" && pwd)
script=vae_mnist.py
case "$1" in *.py) script=$1; shift ;; esac
exec env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_NUM_THREADS=1 \
	/usr/bin/python3 "$dir/$script" "$@"
