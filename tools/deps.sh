#!/usr/bin/env bash
# Install what the build, tests, demo and benchmarks need on Debian 12, when missing.
# Idempotent and quiet when everything is there.  Needs root (or sudo) to install.
set -euo pipefail
cd "$(dirname "$0")/.."

PKGS=(
  # build
  build-essential pkg-config apache2 apache2-dev libssl-dev libcurl4-openssl-dev
  libjansson-dev liblmdb-dev lmdb-utils check clang clang-format libclang-rt-14-dev
  libpcre2-dev libpq-dev
  # password login tests: htpasswd, mod_authn_dbd over SQLite
  apache2-utils libaprutil1-dbd-sqlite3
  # the shared store's tests and benchmarks (a throw-away cluster: tools/pg-test.sh)
  postgresql-15
  # integration tests
  python3-pytest python3-requests python3-jwcrypto curl
  # the runbook test (openssl genpkey); the soak and fault suite, whose short variant runs in
  # make test (wrk; mdb_stat/mdb_copy come with lmdb-utils above)
  openssl wrk
  # identity provider and browser tests
  nodejs npm chromium
  # Korean text in headless Chromium's screenshots of the pages (issue 16)
  fonts-nanum
  # the Debian package (make deb): dh_apache2 comes with apache2-dev
  debhelper dpkg-dev fakeroot lintian
  # benchmarks (bench-only comparisons)
  libjwt-dev libcjose-dev libapache2-mod-auth-openidc
  # make bench-metrics counts instructions per request under callgrind (bench/metrics_ir.sh)
  valgrind
)

missing=()
for p in "${PKGS[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    # nodejs/npm may come from elsewhere on a dev machine: accept them on PATH
    case "$p" in
      nodejs) command -v node >/dev/null && continue ;;
      npm) command -v npm >/dev/null && continue ;;
    esac
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -gt 0 ]; then
  echo "deps: installing ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO=sudo
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  # the Debian package starts a system apache2 on :80 when systemd is absent it does not;
  # either way our tests use their own instances on free ports.
fi

# pinned npm packages (lockfiles committed): IdP and browser driver
for d in tests/idp tests/e2e; do
  # a symlinked node_modules (a git worktree sharing another checkout's) belongs to that
  # checkout: npm ci would empty the target through the link
  if [ -L "$d/node_modules" ]; then
    continue
  fi
  if [ -f "$d/package-lock.json" ]; then
    if [ ! -d "$d/node_modules" ] || [ "$d/package-lock.json" -nt "$d/node_modules/.package-lock.json" ]; then
      echo "deps: npm ci in $d"
      (cd "$d" && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
    fi
  fi
done
