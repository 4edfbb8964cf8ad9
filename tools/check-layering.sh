#!/usr/bin/env bash
# The core library never sees httpd: nothing outside src/httpd/ and mod_authflow.c
# may include an httpd header or name request_rec.
set -u
cd "$(dirname "$0")/.."
bad=$(grep -rlE '#include *[<"](httpd|http_[a-z_]+|ap_[a-z_]+|mod_[a-z_]+|util_[a-z_]+)\.h[>"]|request_rec' \
      src tools tests/unit tests/fuzz bench --include='*.c' --include='*.h' 2>/dev/null \
      | grep -v '^src/httpd/')
if [ -n "$bad" ]; then
  echo "layering: these files outside src/httpd/ use httpd headers or request_rec:"
  echo "$bad"
  exit 1
fi
echo "layering: ok"
