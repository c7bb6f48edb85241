#!/usr/bin/env bash
# t0060-audit.sh: `attest audit verify|tail` on a SQLite log written here with sqlite3.
# The rows are hashed in shell from the documented format (core/audit.h), so this also pins
# the format: version tag, then netstrings of id, prev_hash, at, actor, action, entity,
# entity_id, data.
. "$(dirname "$0")/lib.sh"
export LC_ALL=C
db=$tmp/attest.db
genesis=0000000000000000000000000000000000000000000000000000000000000000

ns() { printf '%d:%s,' "${#1}" "$1"; }

# append ACTOR ACTION ENTITY ENTITY_ID DATA: the next row, hashed as Attest does.
append() {
	local last id prev at=$((1700000000 + RANDOM)) h actor_sql
	last=$(sqlite3 "$db" "SELECT id || ' ' || hash FROM audit ORDER BY id DESC LIMIT 1")
	if [ -z "$last" ]; then id=1 prev=$genesis; else id=$((${last%% *} + 1)) prev=${last#* }; fi
	h=$({ printf 'attest-audit-v1\n'; ns "$id"; ns "$prev"; ns "$at"; ns "$1"; ns "$2"; ns "$3"
	      ns "$4"; ns "$5"; } | sha256sum | cut -d' ' -f1)
	actor_sql=${1:-NULL}
	sqlite3 "$db" "INSERT INTO audit (id, at, actor_id, action, entity, entity_id, data,
		prev_hash, hash) VALUES ($id, $at, $actor_sql, '$2', '$3', $4, '$5', '$prev', '$h')"
}

# broken SQL WANT: apply SQL to a copy of the log; verify must exit 1 naming entry WANT.
broken() {
	cp "$db" "$tmp/intact.db"
	sqlite3 "$db" "$1"
	"$BIN" audit verify >"$tmp/v.out" 2>&1
	local rc=$?
	cp "$tmp/intact.db" "$db"
	[ "$rc" -eq 1 ] && grep -q "broken at entry $2:" "$tmp/v.out"
}

ok "migrate" sh -c "'$BIN' migrate >/dev/null"
ok "an empty log is intact (0)" sh -c "'$BIN' audit verify | grep -qx 'audit log intact: 0 entries'"
append "" decision.propose decision 1 '{"outcome":"pass"}'
append 7 observation.submit observation 3 '{"score":8500,"passed":true}'
append 7 rating.record rating 1 '{"value":2}'
append 4 decision.confirm decision 1 '{"outcome":"pass"}'
append 4 decision.override decision 2 '{"justification":"recording misfiled"}'
ok "a log hashed by the documented format verifies (0)" sh -c "'$BIN' audit verify | grep -qx 'audit log intact: 5 entries'"
ok "tail N shows the newest N, oldest first" sh -c "'$BIN' audit tail 2 >'$tmp/t' && [ \$(wc -l <'$tmp/t') = 2 ] && head -1 '$tmp/t' | grep -q '^4 .* decision.confirm decision/1' && tail -1 '$tmp/t' | grep -q '^5 '"
ok "tail shows the system actor" sh -c "'$BIN' audit tail 5 | head -1 | grep -q 'actor=system'"
ok "tail with a bad count is a usage error (2)" sh -c "'$BIN' audit tail zero 2>/dev/null; [ \$? -eq 2 ]"
ok "an unknown audit command is a usage error (2)" sh -c "'$BIN' audit shred 2>/dev/null; [ \$? -eq 2 ]"
ok "audit --help" sh -c "'$BIN' audit --help | grep -q 'audit verify'"
ok "edited data: exit 1 naming entry 3" broken "UPDATE audit SET data = '{\"value\":3}' WHERE id = 3" 3
ok "edited actor: entry 2" broken "UPDATE audit SET actor_id = 8 WHERE id = 2" 2
ok "deleted middle row: entry 4" broken "DELETE FROM audit WHERE id = 3" 4
ok "deleted first row: entry 2" broken "DELETE FROM audit WHERE id = 1" 2
ok "edited hash: entry 5" broken "UPDATE audit SET hash = '$genesis' WHERE id = 5" 5
ok "swapped rows: entry 2" broken "UPDATE audit SET id = 99 WHERE id = 2; UPDATE audit SET id = 2 WHERE id = 3; UPDATE audit SET id = 3 WHERE id = 99" 2
ok "appended forged row: entry 6" broken "INSERT INTO audit (id, at, actor_id, action, entity, entity_id, data, prev_hash, hash) SELECT 6, 1, 1, 'x', 'y', 1, '{}', hash, 'forged' FROM audit WHERE id = 5" 6
ok "the log is intact again after each restore" sh -c "'$BIN' audit verify | grep -qx 'audit log intact: 5 entries'"
append 4 observation.amend observation 9 '{"reason":"wrong call"}'
ok "appending continues the chain" sh -c "'$BIN' audit verify | grep -qx 'audit log intact: 6 entries'"
finish
