#!/usr/bin/env bash
# lint.sh: our checksrc. Fails on banned calls, raw allocation outside core/mem.c, and
# layering breaks (core/ must not include fcgi/ or lti/; lti/ must not include fcgi/).
set -uo pipefail
cd "$(dirname "$0")/.."
fail=0
report() { echo "lint: $1"; printf '%s\n' "$2" | sed 's/^/  /'; fail=1; }

src=$(ls core/*.[ch] fcgi/*.[ch] lti/*.[ch])
hits=$(grep -nE '(^|[^_a-z])(sprintf|vsprintf|strcpy|strcat|strncpy|strtok|gets|atoi|atol|system|popen)[[:space:]]*\(' $src | grep -vE '(snprintf|vsnprintf)\(' || true)
[ -n "$hits" ] && report "banned function" "$hits"
hits=$(grep -nE '(^|[^_a-z.>])(malloc|calloc|realloc|free)[[:space:]]*\(' $src | grep -v '^core/mem.c:' || true)
[ -n "$hits" ] && report "raw allocation outside core/mem.c (use xmalloc/xfree or the arena)" "$hits"
hits=$(grep -nE '#include "(fcgi|lti)/' core/*.[ch] || true)
[ -n "$hits" ] && report "core/ includes a fcgi/ or lti/ header" "$hits"
hits=$(grep -nE '#include "fcgi/' lti/*.[ch] || true)
[ -n "$hits" ] && report "lti/ includes a fcgi/ header" "$hits"
hits=$(grep -nE '#include <fcgi' $src | grep -v '^fcgi/loop.c:' || true)
[ -n "$hits" ] && report "libfcgi used outside fcgi/loop.c" "$hits"
hits=$(grep -nE '#include <curl/' $src | grep -v '^lti/httpc.c:' || true)
[ -n "$hits" ] && report "libcurl used outside lti/httpc.c" "$hits"
hits=$(grep -nE '\bhtml\([^,]+,[[:space:]]*[^"[:space:]]' fcgi/*.c | grep -v '#define' || true)
[ -n "$hits" ] && report "html() with a non-literal" "$hits"
if [ "$fail" -eq 0 ]; then echo "lint: 1 passed, 0 failed"; else echo "lint: 0 passed, 1 failed"; fi
exit "$fail"
