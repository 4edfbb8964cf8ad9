#!/usr/bin/env bash
# Config drift: every directive in the command table has an entry in the README's
# directive reference and in conf/authflow.conf; every command and option `authflowctl --help`
# shows has an entry in its manual page (tools/authflowctl.8); every log tag (AF01234) written
# by the source has a row in the README's log tag index (the section between
# "<!-- section: logtags -->" and "<!-- /section: logtags -->").
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

# log tags: the source (core, glue, tools) against the README's index
logtags=$(grep -rhoE 'AF[0-9]{5}' --include='*.c' --include='*.h' src tools mod_authflow.c \
          | sort -u)
index=$(sed -n '/<!-- section: logtags -->/,/<!-- \/section: logtags -->/p' README.md \
        | grep -oE '^\| `AF[0-9]{5}`' | grep -oE 'AF[0-9]{5}' | sort -u)
if [ -z "$index" ]; then
  echo "drift: README.md has no log tag index (<!-- section: logtags --> ... <!-- /section: logtags -->)"
  fail=1
fi
missing=$(comm -23 <(echo "$logtags") <(echo "$index"))
for t in $missing; do
  where=$(grep -rlE "$t" --include='*.c' --include='*.h' src tools mod_authflow.c | head -1)
  echo "drift: log tag $t ($where) has no row in README.md \"Log tags\" -- add \"| \`$t\` | level | meaning | what to do |\""
  fail=1
done
stale=$(comm -13 <(echo "$logtags") <(echo "$index"))
for t in $stale; do
  echo "drift: note: README.md \"Log tags\" lists $t, which no source file writes any more"
done
[ $fail = 0 ] && echo "drift: ok ($(echo $names | wc -w) directives," \
  "authflowctl: $(echo $cmds | wc -w) commands, $(echo $opts | wc -w) options in its man page," \
  "$(echo $logtags | wc -w) log tags)"
exit $fail
