#!/usr/bin/env bash
# clang-format check of every tracked C file (the config is .clang-format).
set -u
cd "$(dirname "$0")/.."
files=$(git ls-files '*.c' '*.h' 2>/dev/null; git ls-files --others --exclude-standard '*.c' '*.h' 2>/dev/null)
[ -n "$files" ] || { echo "format: no files"; exit 0; }
bad=""
for f in $files; do
  [ -f "$f" ] || continue
  if ! clang-format --dry-run --Werror "$f" >/dev/null 2>&1; then bad="$bad $f"; fi
done
if [ -n "$bad" ]; then
  echo "format: these files differ from .clang-format (run 'make format'):$bad"
  exit 1
fi
echo "format: ok"
