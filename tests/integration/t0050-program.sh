#!/usr/bin/env bash
# t0050-program.sh: `attest program` — validate, import (references, one transaction,
# --replace), list, show, schema — with the two seed programs and the seed frameworks.
. "$(dirname "$0")/lib.sh"
ex=$root/examples
fx=$root/tests/fixtures/programs

ok "frameworks import first" sh -c "'$BIN' framework import '$ex/frameworks/call-certification.csv' >/dev/null && '$BIN' framework import '$ex/frameworks/level-two-trainer.csv' >/dev/null"
ok "validate the call certification" sh -c "'$BIN' program validate '$ex/programs/call-certification.json' | grep -q 'is valid'"
ok "validate the Level Two pathway" sh -c "'$BIN' program validate '$ex/programs/level-two-trainer.json' | grep -q 'is valid: 1 checklist, 2 tiers, rule tiers'"
ok "an unknown item kind is refused with its path (2)" sh -c "'$BIN' program validate '$fx/bad-kind.json' 2>'$tmp/e'; [ \$? -eq 2 ] && grep -q 'checklists\[0\].items\[2\].kind: must be one of yesno, rating, points, comment' '$tmp/e'"
ok "import the call certification" sh -c "'$BIN' program import '$ex/programs/call-certification.json' | grep -q 'program call-certification imported (id 1, version 1, 1 checklist)'"
ok "import the Level Two pathway" sh -c "'$BIN' program import '$ex/programs/level-two-trainer.json' | grep -q 'version 1'"
ok "checklist rows are stored" sh -c "[ \"\$(sqlite3 '$tmp/attest.db' 'SELECT COUNT(*) FROM checklist_item')\" = 22 ] && [ \"\$(sqlite3 '$tmp/attest.db' 'SELECT pass_mark FROM checklist WHERE key = \"call\"')\" = 8500 ]"
ok "items are linked to competencies" sh -c "[ \"\$(sqlite3 '$tmp/attest.db' 'SELECT COUNT(*) FROM item_competency')\" = 20 ]"
ok "a bad competency reference imports nothing (2)" sh -c "'$BIN' program import '$fx/bad-reference.json' 2>'$tmp/e'; [ \$? -eq 2 ] && grep -q 'checklists\[0\].items\[1\].competencies\[0\]: competency \"CALL-FLY\" is not in framework CALL' '$tmp/e' && [ \"\$(sqlite3 '$tmp/attest.db' 'SELECT COUNT(*) FROM program')\" = 2 ]"
ok "the same key again is a conflict (6)" sh -c "'$BIN' program import '$ex/programs/call-certification.json' 2>'$tmp/e'; [ \$? -eq 6 ] && grep -q 'use --replace' '$tmp/e'"
ok "--replace bumps the version" sh -c "'$BIN' program import '$ex/programs/call-certification.json' --replace | grep -q 'version 2'"
ok "list" sh -c "'$BIN' program list | grep -q 'call-certification  *2  *1  *ESP agent call certification'"
ok "show" sh -c "'$BIN' program show call-certification | grep -q 'pass mark 85 of 100' && '$BIN' program show call-certification | grep -q 'escalation +1 (day 6): Termination review'"
ok "show of a missing program is not found (5)" sh -c "'$BIN' program show nope 2>/dev/null; [ \$? -eq 5 ]"
ok "--replace is refused once observations exist (6)" sh -c "sqlite3 '$tmp/attest.db' \"PRAGMA foreign_keys=OFF; INSERT INTO enrolment (id, program_id, user_id, started_at) VALUES (1, 1, 1, 0); INSERT INTO observation (enrolment_id, checklist_id, assessor_id, observed_at, created_at, updated_at) SELECT 1, id, 1, 0, 0, 0 FROM checklist WHERE key = 'call';\" && '$BIN' program import '$ex/programs/call-certification.json' --replace 2>'$tmp/e'; [ \$? -eq 6 ] && grep -q 'cannot be replaced' '$tmp/e' && '$BIN' program show call-certification | grep -q 'version 2'"
ok "schema prints the JSON Schema" sh -c "'$BIN' program schema | python3 -c 'import json,sys; json.load(sys.stdin)'"
ok "the printed schema is docs/program.schema.json" sh -c "'$BIN' program schema | cmp -s - '$root/docs/program.schema.json'"
finish
