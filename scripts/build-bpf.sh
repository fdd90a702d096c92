#!/usr/bin/env bash
# Builds every bpf/<stem>.bpf.c into bpf/obj/<stem>.bpf.o (CO-RE, BTF kept, DWARF stripped).
# Deterministic: the same sources give byte-identical objects from any checkout directory
# (sources are compiled by relative path and debug info, which holds paths, is stripped).
# Needs clang (14+), llvm-strip and Debian's libbpf-dev headers.
set -euo pipefail

cd "$(dirname "$0")/.."

CLANG=${CLANG:-clang}
STRIP=${LLVM_STRIP:-llvm-strip}
ARCH=${BPF_TARGET_ARCH:-x86}
MULTIARCH_INCLUDE=/usr/include/$(uname -m)-linux-gnu

for tool in "$CLANG" "$STRIP"; do
  command -v "$tool" >/dev/null || { echo "build-bpf: $tool not found (apt-get install clang llvm libbpf-dev)" >&2; exit 1; }
done
[ -f /usr/include/bpf/bpf_helpers.h ] || { echo "build-bpf: /usr/include/bpf/bpf_helpers.h not found (apt-get install libbpf-dev)" >&2; exit 1; }

mkdir -p bpf/obj
shopt -s nullglob
sources=(bpf/*.bpf.c)
if [ ${#sources[@]} -eq 0 ]; then
  echo "build-bpf: no bpf/*.bpf.c sources" >&2
  exit 1
fi

for src in "${sources[@]}"; do
  stem=$(basename "$src" .bpf.c)
  out=bpf/obj/$stem.bpf.o
  tmp=$(mktemp "bpf/obj/.$stem.XXXXXX")
  trap 'rm -f "$tmp"' EXIT
  # -fdebug-prefix-map keeps the absolute checkout path out of whatever survives stripping.
  "$CLANG" -O2 -g -target bpf -D__TARGET_ARCH_$ARCH \
    -fdebug-prefix-map="$PWD"=. \
    -I bpf/include -I bpf -I "$MULTIARCH_INCLUDE" \
    -c "$src" -o "$tmp"
  "$STRIP" -g "$tmp"
  chmod 644 "$tmp"
  mv -f "$tmp" "$out"
  trap - EXIT
  echo "build-bpf: $src -> $out"
done
