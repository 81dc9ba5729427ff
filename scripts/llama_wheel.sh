#!/usr/bin/env bash
# Build (once) and install a portable llama-cpp-python wheel: x86-64 with AVX2, no AVX-512, no AMX.
#
# Why: pip builds llama.cpp with native CPU detection, and that build segfaulted on an AMX machine;
# pip's own wheel cache then hands the native wheel back whatever CMAKE_ARGS say. So the wheel is
# built here with fixed flags into a cache folder whose name carries the version and the flags, and
# installed from there by path. Later setups (any clone, same user) reuse it and take seconds.
#
# Usage: scripts/llama_wheel.sh PYTHON      (PYTHON: the venv's interpreter)
# The version is the one pyproject.toml pins.
# Env:   LLAMA_WHEEL_CACHE (default ~/.cache/rag-news/wheels),
#        LLAMA_CMAKE_ARGS (override the flags; "native" builds for this CPU only, at your own risk),
#        LLAMA_REBUILD=1 (build again even when the cache holds the wheel)
set -euo pipefail
PY=${1:?usage: llama_wheel.sh PYTHON}
HERE=$(cd "$(dirname "$0")/.." && pwd)
VERSION=$(sed -n 's/.*"llama-cpp-python==\([0-9][0-9.]*\)".*/\1/p' "$HERE/pyproject.toml")
[ -n "$VERSION" ] || { echo "error: pyproject.toml pins no llama-cpp-python==VERSION" >&2; exit 1; }
PORTABLE="-DGGML_NATIVE=OFF -DGGML_CPU_ALL_VARIANTS=OFF -DGGML_BACKEND_DL=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON -DGGML_AVX_VNNI=OFF -DGGML_AVX512=OFF -DGGML_AVX512_VBMI=OFF -DGGML_AVX512_VNNI=OFF -DGGML_AVX512_BF16=OFF -DGGML_AMX_TILE=OFF -DGGML_AMX_INT8=OFF -DGGML_AMX_BF16=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF"
case "${LLAMA_CMAKE_ARGS:-portable}" in
  portable) FLAGS=$PORTABLE; VARIANT=portable-avx2 ;;
  native)   FLAGS="-DGGML_NATIVE=ON -DLLAVA_BUILD=OFF"; VARIANT=native ;;
  *)        FLAGS=$LLAMA_CMAKE_ARGS; VARIANT=custom ;;
esac
PYTAG=$("$PY" -c 'import sys, sysconfig; print(f"cp{sys.version_info[0]}{sys.version_info[1]}-{sysconfig.get_platform()}")')
HASH=$(printf '%s|%s|%s' "$VERSION" "$FLAGS" "$PYTAG" | sha256sum | cut -c1-12)
CACHE=${LLAMA_WHEEL_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/rag-news/wheels}
DIR="$CACHE/llama-cpp-python-$VERSION-$VARIANT-$PYTAG-$HASH"

installed=$("$PY" -c 'import importlib.metadata as m; print(m.version("llama-cpp-python"))' 2>/dev/null || true)
# Read without importing llama_cpp: its own dependencies may not be installed yet.
stamp=$("$PY" -c 'import importlib.util as u, pathlib; s = u.find_spec("llama_cpp"); p = pathlib.Path(s.origin).parent / "BUILD_VARIANT"; print(p.read_text().strip() if p.exists() else "")' 2>/dev/null || true)
if [ -n "${LLAMA_REBUILD:-}" ]; then
  rm -rf "$DIR"
elif [ "$installed" = "$VERSION" ] && [ "$stamp" = "$(basename "$DIR")" ]; then
  exit 0
fi

if ! ls "$DIR"/llama_cpp_python-*.whl >/dev/null 2>&1; then
  echo "building llama-cpp-python $VERSION ($VARIANT) once into $DIR (about 6 minutes on 2 cores)" >&2
  tmp="$DIR.partial.$$"
  rm -rf "$tmp"; mkdir -p "$tmp"
  trap 'rm -rf "$tmp"' EXIT
  CMAKE_ARGS="$FLAGS" FORCE_CMAKE=1 "$PY" -m pip wheel --quiet --no-deps --no-cache-dir \
    --no-binary llama-cpp-python "llama-cpp-python==$VERSION" -w "$tmp"
  # Record the variant inside the wheel so a check (and `rag doctor`) can tell which build is installed.
  "$PY" - "$tmp" "$(basename "$DIR")" <<'PYEOF'
import base64, csv, hashlib, io, pathlib, sys, zipfile
folder, variant = pathlib.Path(sys.argv[1]), sys.argv[2]
wheel = next(folder.glob("llama_cpp_python-*.whl"))
out = wheel.with_suffix(".tmp")
data = (variant + "\n").encode()
digest = "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()
with zipfile.ZipFile(wheel) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as dst:
    for item in src.infolist():
        body = src.read(item.filename)
        if item.filename.endswith(".dist-info/RECORD"):
            rows = list(csv.reader(io.StringIO(body.decode())))
            rows.insert(-1, ["llama_cpp/BUILD_VARIANT", digest, str(len(data))])
            buf = io.StringIO(); csv.writer(buf, lineterminator="\n").writerows(rows)
            body = buf.getvalue().encode()
        dst.writestr(item, body)
    dst.writestr("llama_cpp/BUILD_VARIANT", data)
out.replace(wheel)
PYEOF
  rm -rf "$DIR"; mv "$tmp" "$DIR"; trap - EXIT
fi
# --no-deps: its dependencies (numpy, jinja2, diskcache) come with the project's own install.
"$PY" -m pip install --quiet --no-deps --force-reinstall --no-cache-dir "$DIR"/llama_cpp_python-*.whl
