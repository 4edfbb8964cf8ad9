#!/usr/bin/env bash
# Config drift: every directive in the command table has an entry in the README's
# directive reference and in conf/authflow.conf.
set -u
cd "$(dirname "$0")/.."
names=$(grep -ohE 'AP_INIT_[A-Z0-9_]+\("AuthFlow[A-Za-z]+"' src/httpd/*.c src/httpd/*.h 2>/dev/null \
        | sed -E 's/.*\("//; s/"$//' | sort -u)
fail=0
for n in $names; do
  grep -q "\`$n" README.md || { echo "drift: $n missing from README.md"; fail=1; }
  grep -q "$n" conf/authflow.conf || { echo "drift: $n missing from conf/authflow.conf"; fail=1; }
done
[ $fail = 0 ] && echo "drift: ok ($(echo $names | wc -w) directives)"
exit $fail
