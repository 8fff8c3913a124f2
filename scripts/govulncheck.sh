#!/bin/sh
# Runs govulncheck over the module. Its default (source) mode reports only
# vulnerabilities whose code is reachable from ours, and exits non-zero on
# such a finding; this script passes that through.
#
# govulncheck needs the vulnerability database (vuln.go.dev). Where it
# cannot be fetched (offline builds, this project's sandbox), the script
# prints a SKIPPED line and exits 0 rather than failing every build;
# any other failure (including a finding) still fails. A skip then runs
# the self-check below, so that "skipped" never hides a check that could
# not fail.
#
# --self-test only runs the self-check: govulncheck against a made-up
# database whose one entry affects gin.New, which our router calls. The
# run must fail and name that entry.
#
# GOVULNCHECK_DB overrides the database URL (e.g. file:///path/to/db for a
# mirror or a test database).
set -u
VERSION=v1.9.0
cd "$(dirname "$0")/.." || exit 2

out=$(mktemp)
db=$(mktemp -d)
trap 'rm -rf "$out" "$db"' EXIT

govulncheck() {
	go run "golang.org/x/vuln/cmd/govulncheck@$VERSION" "$@" >"$out" 2>&1
}

selftest() {
	mkdir -p "$db/index" "$db/ID"
	echo '{"modified":"2026-01-01T00:00:00Z"}' >"$db/index/db.json"
	echo '[{"path":"github.com/gin-gonic/gin","vulns":[{"id":"GO-0000-0001","modified":"2026-01-01T00:00:00Z"}]}]' >"$db/index/modules.json"
	cat >"$db/ID/GO-0000-0001.json" <<'EOF'
{"schema_version":"1.3.1","id":"GO-0000-0001","modified":"2026-01-01T00:00:00Z","published":"2026-01-01T00:00:00Z",
 "summary":"Made-up finding in gin.New (govulncheck.sh self-check)","details":"Not a real vulnerability.",
 "affected":[{"package":{"name":"github.com/gin-gonic/gin","ecosystem":"Go"},"ranges":[{"type":"SEMVER","events":[{"introduced":"0"}]}],
   "ecosystem_specific":{"imports":[{"path":"github.com/gin-gonic/gin","symbols":["New"]}]}}],
 "database_specific":{"url":"https://pkg.go.dev/vuln/GO-0000-0001"}}
EOF
	if govulncheck -db "file://$db" ./...; then
		cat "$out"
		echo "govulncheck: self-check FAILED: a reachable finding did not fail the run" >&2
		return 1
	fi
	if ! grep -q '^Vulnerability #1: GO-0000-0001' "$out"; then
		cat "$out"
		echo "govulncheck: self-check FAILED: the run failed without reporting the planted finding" >&2
		return 1
	fi
	echo "govulncheck: self-check passed: a reachable finding fails the run"
}

if [ "${1:-}" = "--self-test" ]; then
	selftest
	exit $?
fi

set -- ./...
if [ -n "${GOVULNCHECK_DB:-}" ]; then
	set -- -db "$GOVULNCHECK_DB" "$@"
fi

govulncheck "$@"
rc=$?
cat "$out"
if [ "$rc" -eq 0 ]; then
	exit 0
fi
# A finding prints "Vulnerability #N"; never treat that as unreachable.
if ! grep -q '^Vulnerability #' "$out" &&
	grep -Eq 'govulncheck: fetching vulnerabilities|vuln\.go\.dev' "$out"; then
	echo "govulncheck: SKIPPED: vulnerability database unreachable"
	selftest
	exit $?
fi
echo "govulncheck: FAILED (exit $rc)" >&2
exit "$rc"
