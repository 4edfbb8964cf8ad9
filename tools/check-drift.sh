#!/usr/bin/env bash
# Config drift: every directive in the command table has an entry in the README's
# directive reference and in conf/authflow.conf; every command and option `authflowctl --help`
# shows has an entry in its manual page (tools/authflowctl.8).
set -u
cd "$(dirname "$0")/.."
names=$(grep -ohE 'AP_INIT_[A-Z0-9_]+\("AuthFlow[A-Za-z]+"' src/httpd/*.c src/httpd/*.h 2>/dev/null \
        | sed -E 's/.*\("//; s/"$//' | sort -u)
fail=0
for n in $names; do
  grep -q "\`$n" README.md || { echo "drift: $n missing from README.md"; fail=1; }
  grep -q "$n" conf/authflow.conf || { echo "drift: $n missing from conf/authflow.conf"; fail=1; }
done
help=$(sed -n '/usage_text\[\] =/,/;$/p' tools/authflowctl.c)
opts=$(echo "$help" | grep -oE -- '--[a-z][a-z-]*' | sort -u)
cmds=$(echo "$help" | grep -E '^ *"    authflowctl (\[|--)' | sed -E 's/\\n"$//; s/\[[^]]*\]//g' \
       | awk '{for (i = 3; i <= NF; i++) if ($i ~ /^[a-z]+$/) { print $i; break }}' | sort -u)
for o in $opts; do
  grep -qF -- "$(echo "$o" | sed 's/-/\\-/g')" tools/authflowctl.8 ||
    { echo "drift: authflowctl option $o missing from tools/authflowctl.8"; fail=1; }
done
tags=$(awk 'tp { print; tp = 0 } /^\.TP/ { tp = 1 }' tools/authflowctl.8)
for c in $cmds; do  # an entry of its own: the tag line of a .TP paragraph
  echo "$tags" | grep -qE "^(\.(B|BR|BI) \"?$c\b|\\\\fB$c\\\\fR)" ||
    { echo "drift: authflowctl command $c missing from tools/authflowctl.8"; fail=1; }
done
[ $fail = 0 ] && echo "drift: ok ($(echo $names | wc -w) directives," \
  "authflowctl: $(echo $cmds | wc -w) commands, $(echo $opts | wc -w) options in its man page)"
exit $fail
