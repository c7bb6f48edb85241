#!/usr/bin/env bash
# t0040-framework.sh: `attest framework` — Moodle CSV and CASE import/export round trips,
# list/show, --replace, exit codes, and broken files that import nothing.
. "$(dirname "$0")/lib.sh"
fx=$root/tests/fixtures/frameworks
ex=$root/examples/frameworks
A=$BIN
count() { "$A" framework list | tail -n +2 | wc -l; }

ok "help for framework and each subcommand" sh -c "'$A' framework --help | grep -q 'framework import' && '$A' framework import --help | grep -q -- '--replace' && '$A' framework export --help | grep -q moodle-csv && '$A' framework show --help | grep -q tree && '$A' framework list --help | grep -q usage"
ok "no subcommand is a usage error (2)" sh -c "'$A' framework 2>/dev/null; [ \$? -eq 2 ]"
ok "unknown format is a usage error (2)" sh -c "'$A' framework import '$fx/moodle-export.csv' --format xml 2>/dev/null; [ \$? -eq 2 ]"
ok "import a Moodle export" sh -c "'$A' framework import '$fx/moodle-export.csv' | grep -q '8 competencies'"
ok "export is byte-identical to the Moodle file" sh -c "'$A' framework export SAFE-FW --format moodle-csv -o '$tmp/rt.csv' && cmp -s '$tmp/rt.csv' '$fx/moodle-export.csv'"
ok "export to stdout by numeric id" sh -c "'$A' framework export 1 | cmp -s - '$fx/moodle-export.csv'"
ok "importing the same idnumber again is a conflict (6)" sh -c "'$A' framework import '$fx/moodle-export.csv' 2>'$tmp/err'; [ \$? -eq 6 ] && grep -q -- '--replace' '$tmp/err'"
ok "--replace keeps competency ids" sh -c "'$A' framework import --replace '$fx/moodle-export.csv' | grep -q '0 created, 8 updated, 0 deleted'"
ok "show prints the tree with indentation, scale and rules" sh -c "'$A' framework show SAFE-FW > '$tmp/show' && grep -q '^hazards  Hazard control  \[rule: all\]' '$tmp/show' && grep -q '^    hz-id-walk  Daily walk' '$tmp/show' && grep -q 'points >= 3' '$tmp/show' && grep -q 'Competent (proficient) (default)' '$tmp/show'"
ok "show of a missing framework is not found (5)" sh -c "'$A' framework show NOPE 2>/dev/null; [ \$? -eq 5 ]"
ok "export of a missing framework is not found (5)" sh -c "'$A' framework export 99 2>/dev/null; [ \$? -eq 5 ]"
ok "the seed frameworks import" sh -c "'$A' framework import '$ex/call-certification.csv' >/dev/null && '$A' framework import '$ex/level-two-trainer.csv' >/dev/null && '$A' framework list | grep -q 'L2T ' && '$A' framework list | grep -q 'CALL '"
ok "the seed frameworks round-trip byte for byte" sh -c "'$A' framework export CALL | cmp -s - '$ex/call-certification.csv' && '$A' framework export L2T | cmp -s - '$ex/level-two-trainer.csv'"
ok "L2T has three levels and a 1-5 scale, 3+ proficient" sh -c "'$A' framework show L2T | grep -q '^    L2T-FAC-GROUP-1' && '$A' framework show L2T | grep -q '2 3 - Competent (proficient) (default)'"
ok "import CASE (format guessed)" sh -c "'$A' framework import '$fx/case-small.json' 2>'$tmp/notes' | grep -q '5 competencies' && grep -q isRelatedTo '$tmp/notes'"
ok "CASE export keeps identifiers and the tree" sh -c "'$A' framework export c5e3a1b0-1d2e-4f3a-9b8c-7d6e5f4a3b21 --format case -o '$tmp/c.json' && grep -q '0a000000-0000-4000-8000-000000000004' '$tmp/c.json' && grep -q '\"humanCodingScheme\": \"WC.1.2.a\"' '$tmp/c.json'"
ok "CASE export -> import --replace -> export is stable" sh -c "'$A' framework import --replace --format case '$tmp/c.json' >/dev/null 2>&1 && '$A' framework export c5e3a1b0-1d2e-4f3a-9b8c-7d6e5f4a3b21 --format case | cmp -s - '$tmp/c.json'"
ok "a Moodle framework exports as CASE and back" sh -c "'$A' framework export CALL --format case -o '$tmp/call.json' && '$A' framework import '$tmp/call.json' 2>/dev/null | grep -q '22 competencies'"

before=$(count)
printf '"Parent id number","Id number",Shortname,Description,"Description format","Scale values","Scale configuration","Rule type (optional)","Rule outcome (optional)","Rule config (optional)","Cross referenced competency id numbers","Exported id (optional)","Is framework",Taxonomy\n,BAD,Bad,,1,"No,Yes","[{""scaleid"":""1""},{""id"":2,""scaledefault"":1,""proficient"":1}]",,,,,,1,\n,A,Top,,1,,,,0,null,,1,,\nA,B,Kid,,1,,,,0,null,,2,,\nX,C,Lost,,1,,,,0,null,,3,,\n' >"$tmp/bad-parent.csv"
ok "unknown parent: exit 1, line number, nothing stored" sh -c "'$A' framework import '$tmp/bad-parent.csv' 2>'$tmp/err'; [ \$? -eq 1 ] && grep -q \"line 5: parent id number 'X' not found\" '$tmp/err' && ! '$A' framework show BAD >/dev/null 2>&1"
sed 's/^A,B,Kid/A,A,Dup/' "$tmp/bad-parent.csv" | sed '/^X,C/d' >"$tmp/bad-dup.csv"
ok "duplicate id number is refused" sh -c "'$A' framework import '$tmp/bad-dup.csv' 2>'$tmp/err'; [ \$? -eq 1 ] && grep -q \"duplicate id number 'A'\" '$tmp/err'"
head -1 "$tmp/bad-parent.csv" >"$tmp/cols.csv"; echo 'a,b,c' >>"$tmp/cols.csv"
ok "wrong column count is refused" sh -c "'$A' framework import '$tmp/cols.csv' 2>'$tmp/err'; [ \$? -eq 1 ] && grep -q 'line 2: expected 14 columns, found 3' '$tmp/err'"
printf 'x\377y\n' >"$tmp/latin1.csv"
ok "bad UTF-8 is refused" sh -c "'$A' framework import '$tmp/latin1.csv' 2>'$tmp/err'; [ \$? -eq 1 ] && grep -q 'line 1: invalid UTF-8' '$tmp/err'"
: >"$tmp/empty.csv"
ok "an empty file is refused" sh -c "'$A' framework import '$tmp/empty.csv' 2>'$tmp/err'; [ \$? -eq 1 ] && grep -q empty '$tmp/err'"
head -c 21000000 /dev/zero | tr '\0' 'a' >"$tmp/big.csv"
ok "a file over 20 MiB is refused" sh -c "'$A' framework import '$tmp/big.csv' 2>'$tmp/err'; [ \$? -eq 1 ] && grep -q 'larger than 20 MiB' '$tmp/err'"
printf '{"CFDocument":{"identifier":"d","title":"T"},"CFItems":[{"identifier":"i","fullStatement":"x"},{"fullStatement":"y"}]}' >"$tmp/bad.json"
ok "broken CASE names the JSON path" sh -c "'$A' framework import '$tmp/bad.json' 2>'$tmp/err'; [ \$? -eq 1 ] && grep -q 'CFItems\[1\].identifier: missing' '$tmp/err'"
ok "a missing file is not found (5)" sh -c "'$A' framework import '$tmp/none.csv' 2>/dev/null; [ \$? -eq 5 ]"
ok "refused imports stored nothing" sh -c "[ \$('$A' framework list | tail -n +2 | wc -l) -eq $before ]"
ok "delete" sh -c "'$A' framework delete SAFE-FW >/dev/null && ! '$A' framework show SAFE-FW >/dev/null 2>&1"
ok "delete again is not found (5)" sh -c "'$A' framework delete SAFE-FW 2>/dev/null; [ \$? -eq 5 ]"
finish
