#!/usr/bin/env bash
# make deb: build the Debian package with Debian's own tools (dpkg-buildpackage, debhelper,
# dh_apache2) in a copy of the tree under build/deb/, then run lintian on it.  The source tree
# is not written to (git stays clean); the package lands in build/, the log and lintian's
# report in build/deb/ (the copy is removed after a successful build).
#   LINTIAN=0 skips lintian.  Prints the path of the .deb on its last line.
set -euo pipefail
cd "$(dirname "$0")/.."
top=$PWD

need=(dpkg-buildpackage dh dh_apache2 fakeroot dpkg-architecture)
[ "${LINTIAN:-1}" = 0 ] || need+=(lintian)
for t in "${need[@]}"; do
  command -v "$t" >/dev/null || { echo "deb: $t missing: run make deps" >&2; exit 2; }
done

pkg=libapache2-mod-authflow
version=$(sed -n '1s/^[^(]*(\([^)]*\)).*/\1/p' debian/changelog)
arch=$(dpkg-architecture -qDEB_HOST_ARCH)
deb=${pkg}_${version}_${arch}.deb
out=$top/build/deb
stage=$out/$pkg-$version

rm -rf "$out"
mkdir -p "$stage"
# the tracked files plus new ones not ignored, as they are in the work tree
if git rev-parse --is-inside-work-tree >/dev/null 2>&1; then
  git ls-files -z --cached --others --exclude-standard |
    while IFS= read -r -d '' f; do [ -e "$f" ] && printf '%s\0' "$f"; done |
    tar --null -T - -cf - | tar -xf - -C "$stage"
else
  tar --exclude=./build --exclude=node_modules --exclude=.git -cf - . | tar -xf - -C "$stage"
fi

echo "deb: dpkg-buildpackage -b in build/deb/$pkg-$version (log: build/deb/build.log)"
# noautodbgsym: no -dbgsym package (nobody here installs it; saves its build time)
if ! (cd "$stage" && DEB_BUILD_OPTIONS="${DEB_BUILD_OPTIONS:-} noautodbgsym" dpkg-buildpackage -b -us -uc -j"${DEB_JOBS:-2}") >"$out/build.log" 2>&1; then
  tail -40 "$out/build.log" >&2
  echo "deb: dpkg-buildpackage failed (build/deb/build.log)" >&2
  exit 1
fi
cp "$out/$deb" "$top/build/$deb"
rm -rf "$stage"   # the copy and its objects; build.log, .changes, .buildinfo stay
echo "deb: built in ${SECONDS}s"
t0=$SECONDS

if [ "${LINTIAN:-1}" != 0 ]; then
  # errors fail the build; warnings are printed (README "Debian package" lists those kept)
  if ! lintian --fail-on error --display-info "$top/build/$deb" >"$out/lintian.txt" 2>&1; then
    cat "$out/lintian.txt" >&2
    echo "deb: lintian reports errors (build/deb/lintian.txt)" >&2
    exit 1
  fi
  grep -v 'running with root privileges is not recommended' "$out/lintian.txt" >"$out/lintian.tags" || true
  if [ -s "$out/lintian.tags" ]; then
    echo "deb: lintian (no errors):"
    sed 's/^/  /' "$out/lintian.tags"
  else
    echo "deb: lintian clean"
  fi
  echo "deb: lintian took $((SECONDS - t0))s"
fi
echo "deb: build/$deb"
