#!/usr/bin/env python3
"""Generate malformed inputs for every public ims function and run them.

Each input runs in its own subtransaction (ims_fuzz.attempt), which records
the SQLSTATE it ended with. Afterwards it checks that the backend never
crashed (same postmaster start time, same backend pid), that no rejection
was an internal error (XX000, what an escaped Rust panic becomes), and that
rejected calls wrote nothing (row counts unchanged by them).

Usage: bad_input.py N   (N inputs per function; psql from PATH, PG* env)
"""
import json
import random
import subprocess
import sys

N = int(sys.argv[1]) if len(sys.argv) > 1 else 100
rng = random.Random(20261126)

INJECTION = ["'; DROP TABLE ims.issues; --", "\") OR 1=1 --", "$$; SELECT pg_sleep(10); $$", "\\x00\\x01",
             "<script>alert(1)</script>", "%s%s%n", "../../etc/passwd", "${jndi:ldap://x}"]
CONTROL = "".join(chr(c) for c in range(1, 32)) + "\u007f\u2028\u2029\ufeff"
TIMESTAMPS = ["0000-01-01", "99999-12-31T00:00:00Z", "2024-13-45", "2024-02-30", "infinity", "-infinity",
              "1970-01-01T00:00:00+25:00", "2024-01-01T24:00:00Z", "yesterday", "", " ", "NaN",
              "2024-01-01T00:00:00.9999999999Z", "10000-01-01", "2024-1-1", "12/31/2024", "1700000000"]
QUERY_GARBAGE = ["", " ", "\"", "\"\"", "-", "--", "OR", "OR OR", "-\"", "product:", "status:\"", "\"a\" OR",
                 "(((", ")))", "a & b | !c <-> d", ":*", "'", "''", "\\", "\\\\", "\u0000", "연결 \"타임", "-연결",
                 "product:\"\"", "x" * 10001, "ORA-" * 3000, "연" * 4000, "\"" * 999, " OR " * 500]


def rand_text(max_len=40):
    pool = ["a", "Z", "9", " ", "-", "연", "결", "ＯＲＡ", "\n", "\t", "\"", "'", "\\", "😀", "é"]
    return "".join(rng.choice(pool) for _ in range(rng.randint(0, max_len)))


def rand_json(depth=0):
    kind = rng.randint(0, 7 if depth < 4 else 4)
    if kind == 0:
        return None
    if kind == 1:
        return rng.choice([True, False])
    if kind == 2:
        return rng.choice([0, -1, 1.5, 1e308, -9223372036854775808, 18446744073709551616, 3.14])
    if kind in (3, 4):
        return rng.choice([rand_text(), rng.choice(INJECTION), CONTROL, rng.choice(TIMESTAMPS)])
    if kind == 5:
        return [rand_json(depth + 1) for _ in range(rng.randint(0, 4))]
    keys = ["issue_id", "title", "description", "comments", "attachments", "created_at", "status",
            "comment_id", "content", "file_name", "size_bytes", "checksum", "raw_data", rand_text(8)]
    return {rng.choice(keys): rand_json(depth + 1) for _ in range(rng.randint(0, 5))}


def rand_issue():
    """An issue that is usually almost right, wrong in one or two places."""
    issue = {"issue_id": rng.choice(["IMS-1", "", " ", None, 7, 7.5, [], {}, "x" * 201, rand_text(10)]),
             "title": rng.choice(["t", None, 5, [], {}, "x" * 70000, rand_text()]),
             "created_at": rng.choice(TIMESTAMPS + [None, 5])}
    if rng.random() < 0.5:
        issue["comments"] = rng.choice(["x", 5, None, [], [None], [1], [{}], [{"content": None}],
                                        [{"content": 5}], [{"content": "ok", "comment_id": {}}],
                                        [{"content": "ok", "created_at": "never"}], rand_json()])
    if rng.random() < 0.5:
        issue["attachments"] = rng.choice(["x", [{}], [{"file_name": ""}], [{"file_name": "f", "size_bytes": -1}],
                                           [{"file_name": "f", "size_bytes": "big"}], [{"file_name": 5}], rand_json()])
    for _ in range(rng.randint(0, 2)):
        issue[rng.choice(["status", "description", "raw_data", rand_text(5)])] = rand_json()
    return issue


def lit(value):
    """A dollar-quoted SQL literal that cannot clash with its content."""
    tag = "q%08x" % rng.getrandbits(32)
    return f"${tag}${value}${tag}$"


def json_lit(value):
    return lit(json.dumps(value, ensure_ascii=rng.random() < 0.5)) + "::jsonb"


def big_sql_inputs():
    """Inputs built server-side: too large or too deep to write out."""
    return [
        ("upsert_issue", "ims.upsert_issue(jsonb_build_object('issue_id', 'BIG', 'description', repeat('가', 12000000)))"),
        ("upsert_issue", "ims.upsert_issue(jsonb_build_object('issue_id', repeat('x', 100000)))"),
        ("upsert_issue", "ims.upsert_issue(jsonb_build_object('issue_id', 'C', 'comments', "
                         "(SELECT jsonb_agg(jsonb_build_object('content', g::text)) FROM generate_series(1, 10001) g)))"),
        ("upsert_issues", "ims.upsert_issues((SELECT jsonb_agg(jsonb_build_object('issue_id', 'b' || g)) "
                          "FROM generate_series(1, 10001) g))"),
        ("upsert_issue", "ims.upsert_issue((repeat('{\"a\":', 5000) || '1' || repeat('}', 5000))::jsonb)"),
        ("upsert_issue", "ims.upsert_issue(jsonb_build_object('issue_id', 'D', 'raw_data', "
                         "(repeat('[', 3000) || repeat(']', 3000))::jsonb))"),
        ("search_issues", "ims.search_issues(repeat('연결 ', 5000))"),
        ("log_search", "ims.log_search(repeat('q', 20000))"),
    ]


def inputs_for(fn):
    """N SQL expressions calling fn with bad or odd arguments."""
    out = []
    for _ in range(N):
        r = rng.random()
        if fn == "upsert_issue":
            arg = rand_issue() if r < 0.7 else rand_json()
            out.append(f"ims.upsert_issue({json_lit(arg)}, {rng.choice(['NULL', '-1', '0', '999999999'])})")
        elif fn == "upsert_issues":
            arg = [rand_issue() for _ in range(rng.randint(0, 4))] if r < 0.7 else rand_json()
            out.append(f"ims.upsert_issues({json_lit(arg)}, {rng.choice(['NULL', '-1', '999999999'])})")
        elif fn == "search_issues":
            q = rng.choice(QUERY_GARBAGE) if r < 0.5 else rand_text(60)
            q = q.replace("\u0000", "")
            out.append(f"ims.search_issues({lit(q)}, {rng.choice(['NULL', lit(rand_text(5))])}, "
                       f"{rng.choice(['NULL', '0', '-1', '2147483647', '5'])})")
        elif fn == "start_session":
            out.append(f"ims.start_session({lit(rand_text())}, {lit(rng.choice(INJECTION))}, "
                       f"{json_lit(rand_json())}, {rng.choice(['NULL', '-5', '1', '999999'])})")
        elif fn == "finish_session":
            out.append(f"ims.finish_session({rng.choice(['NULL', '-1', '0', '999999999'])}, "
                       f"{rng.choice(['NULL', lit(rand_text(10)), lit('completed')])}, "
                       f"{rng.choice(['NULL', '-1', '2147483647'])})")
        elif fn == "log_error":
            out.append(f"ims.log_error({rng.choice(['NULL', '-1', '999999999'])}, {lit(rand_text(10))}, "
                       f"{lit(rand_text())}, {lit(rng.choice(['fatal', '', 'ERROR', rand_text(5)]))}, "
                       f"{json_lit(rand_json())}, {lit(rand_text(5))})")
        elif fn == "log_search":
            conf = rng.choice(["NULL", "-0.1", "1.5", "'NaN'::float8", "'Infinity'::float8", "0.5"])
            out.append(f"ims.log_search({rng.choice(['NULL', lit(''), lit(rand_text())])}, {json_lit(rand_json())}, "
                       f"{lit(rand_text(6))}, {conf}, {rng.choice(['NULL', '-1'])}, NULL, "
                       f"{rng.choice(['NULL', '-5'])})")
        elif fn == "aggregate_daily_stats":
            dates = ["NULL", "'infinity'", "'-infinity'", "'4713-01-01 BC'", "'5874897-12-31'", "'2024-02-29'"]
            out.append(f"ims.aggregate_daily_stats({rng.choice(dates)}::date)")
        elif fn == "aggregate_monthly_stats":
            out.append(f"ims.aggregate_monthly_stats({rng.choice(['NULL', '-1', '0', '1999', '3000', '2147483647'])}, "
                       f"{rng.choice(['NULL', '0', '13', '-1', '2147483647'])})")
        elif fn == "get_user_stats":
            out.append(f"ims.get_user_stats({rng.choice(['NULL', '-1', '0', '9223372036854775807'])})")
        elif fn == "delete_old_sessions":
            out.append(f"ims.delete_old_sessions({rng.choice(['NULL', '-1', '999999'])}, "
                       f"{rng.choice(['NULL', '-1', '-2147483648'])})")
        elif fn == "ensure_partitions":
            out.append(f"ims.ensure_partitions({rng.choice(['NULL', '-1', '121', '2147483647', '-2147483648'])})")
        elif fn == "set_current_user":
            out.append(f"ims.set_current_user({rng.choice(['-1', '0', '9223372036854775807', '-9223372036854775808'])})")
        elif fn == "to_search_vector":
            out.append(f"ims.to_search_vector({lit(rand_text(200))}, {lit(rng.choice(INJECTION + [CONTROL]))})")
        elif fn == "to_search_query":
            q = (rng.choice(QUERY_GARBAGE) if r < 0.5 else rand_text(80)).replace("\u0000", "")
            out.append(f"ims.to_search_query({lit(q)})")
    return out


FUNCTIONS = ["upsert_issue", "upsert_issues", "search_issues", "start_session", "finish_session", "log_error",
             "log_search", "aggregate_daily_stats", "aggregate_monthly_stats", "get_user_stats",
             "delete_old_sessions", "ensure_partitions", "set_current_user", "to_search_vector", "to_search_query"]

SETUP = r"""
\set ON_ERROR_STOP 1
SET client_min_messages = error;
DROP SCHEMA IF EXISTS ims_fuzz CASCADE;
CREATE SCHEMA ims_fuzz;
CREATE TABLE ims_fuzz.results (fn text, call text, sqlstate text, message text);
CREATE FUNCTION ims_fuzz.counts() RETURNS text LANGUAGE sql AS $$
  SELECT concat_ws(',', (SELECT count(*) FROM ims.issues), (SELECT count(*) FROM ims.issue_comments),
                   (SELECT count(*) FROM ims.attachments), (SELECT count(*) FROM ims.issue_history),
                   (SELECT count(*) FROM ims.crawl_sessions), (SELECT count(*) FROM ims.session_errors),
                   (SELECT count(*) FROM ims.search_queries), (SELECT count(*) FROM ims.session_issues))
$$;
-- Run one call; on error, check that it wrote nothing.
CREATE FUNCTION ims_fuzz.attempt(fn text, call text) RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    before text := ims_fuzz.counts();
    state text;
    msg text;
BEGIN
    BEGIN
        EXECUTE 'SELECT count(*) FROM (SELECT ' || call || ') x';
        INSERT INTO ims_fuzz.results VALUES (fn, left(call, 300), '00000', NULL);
    EXCEPTION WHEN OTHERS THEN
        GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT;
        IF ims_fuzz.counts() <> before THEN
            state := 'WROTE';
        END IF;
        INSERT INTO ims_fuzz.results VALUES (fn, left(call, 300), state, left(msg, 200));
    END;
END $$;
INSERT INTO ims.users (user_id, username, role) VALUES (1, 'fuzz', 'user') ON CONFLICT DO NOTHING;
SELECT session_id FROM ims.start_session('OpenFrame', user_id => 1) \gset
SELECT pg_postmaster_start_time() AS started, pg_backend_pid() AS pid \gset
"""

CHECK = r"""
SELECT pg_postmaster_start_time() = :'started' AND pg_backend_pid() = :pid AS same_server_and_backend \gset
\if :same_server_and_backend
\else
  \echo 'FAIL: the server or backend restarted'
  \quit
\endif
\pset footer off
SELECT fn, count(*) AS calls, count(*) FILTER (WHERE sqlstate = '00000') AS accepted,
       count(*) FILTER (WHERE sqlstate <> '00000') AS rejected,
       string_agg(DISTINCT sqlstate, ' ' ORDER BY sqlstate) FILTER (WHERE sqlstate <> '00000') AS sqlstates
  FROM ims_fuzz.results GROUP BY fn ORDER BY fn;
SELECT fn, sqlstate, message, call FROM ims_fuzz.results WHERE sqlstate IN ('XX000', 'WROTE') LIMIT 20;
SELECT count(*) FILTER (WHERE sqlstate IN ('XX000', 'WROTE')) AS bad, count(*) AS total FROM ims_fuzz.results \gset
\echo 'bad-input calls:' :total ', internal errors or partial writes:' :bad
"""


def main():
    lines = [SETUP]
    calls = [(fn, c) for fn in FUNCTIONS for c in inputs_for(fn)] + big_sql_inputs()
    for fn, call in calls:
        lines.append(f"SELECT ims_fuzz.attempt({lit(fn)}, {lit(call)});")
    lines.append(CHECK)
    script = "\n".join(lines)
    proc = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", "ims_fuzz", "-o", "/dev/null"],
                          input=script, text=True, capture_output=True)
    report = subprocess.run(["psql", "-X", "-q", "-d", "ims_fuzz", "-c",
                             "SELECT fn, count(*) AS calls, count(*) FILTER (WHERE sqlstate = '00000') AS accepted, "
                             "count(*) FILTER (WHERE sqlstate <> '00000') AS rejected, "
                             "string_agg(DISTINCT sqlstate, ' ' ORDER BY sqlstate) FILTER (WHERE sqlstate <> '00000') "
                             "AS sqlstates FROM ims_fuzz.results GROUP BY fn ORDER BY fn"],
                            text=True, capture_output=True)
    print(report.stdout)
    bad = subprocess.run(["psql", "-X", "-At", "-d", "ims_fuzz", "-c",
                          "SELECT count(*) FILTER (WHERE sqlstate IN ('XX000', 'WROTE')) || ' ' || count(*) "
                          "FROM ims_fuzz.results"], text=True, capture_output=True).stdout.split()
    if proc.returncode != 0 or "FAIL" in proc.stdout + proc.stderr:
        print(proc.stdout[-3000:], proc.stderr[-3000:])
        print("FAIL: the bad-input run did not complete (crash or restart)")
        return 1
    examples = subprocess.run(["psql", "-X", "-q", "-d", "ims_fuzz", "-c",
                               "SELECT fn, sqlstate, message, left(call, 120) FROM ims_fuzz.results "
                               "WHERE sqlstate IN ('XX000', 'WROTE') LIMIT 20"], text=True, capture_output=True)
    if not bad or bad[0] != "0":
        print(examples.stdout)
        print(f"FAIL: {bad[0] if bad else '?'} calls ended in an internal error or a partial write")
        return 1
    print(f"bad input: {bad[1]} calls over {len(FUNCTIONS)} functions; no crash, no internal error, "
          f"no partial write")
    return 0


if __name__ == "__main__":
    sys.exit(main())
