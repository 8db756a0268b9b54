"""A small crawler: records a crawl session for one ims user, stores the
issues it "crawled" in batches, logs an error, finishes the session, and
searches what it stored. Configure with DATABASE_* environment variables
(see ims_crawler.DatabaseConfig); the login must map to an ims user, or be a
trusted pool login with IMS_USER_ID set.

    DATABASE_URL="host=/tmp dbname=ims user=crawler_pool" IMS_USER_ID=2 python examples/crawler.py
"""
import os

from ims_crawler import Database, ImsError


def crawl_pages():
    """Stand-in for the real IMS crawler: pages of issues as the IMS shows them."""
    for page in range(3):
        yield [
            {
                "issue_id": f"EX-{page * 10 + i}",
                "title": f"TJES 기동 시 연결 타임아웃 ({page * 10 + i})",
                "description": "배치 작업이 중단되었습니다. ORA-00942 after connection reset",
                "product": "OpenFrame",
                "status": "Open",
                "comments": [{"comment_id": "1", "author": "yijae.shin", "content": "로그 확인 중입니다."}],
            }
            for i in range(10)
        ]


def main() -> None:
    user_id = int(os.environ["IMS_USER_ID"]) if os.environ.get("IMS_USER_ID") else None
    with Database.from_env() as db:
        with db.session(user_id) as s:
            sid = s.start_session("OpenFrame", "connection timeout", {"max_pages": 3}).session_id
        stored = 0
        for page in crawl_pages():
            with db.session(user_id) as s:  # one transaction per batch
                r = s.upsert_issues(page, session_id=sid)
                stored += r.inserted + r.updated + r.unchanged
        with db.session(user_id) as s:
            try:
                s.log_error(sid, "timeout", "page 4 timed out", "warning", {"page": 4})
            except ImsError as e:
                print(f"could not log the error: {e.sqlstate} {e.message}")
            done = s.finish_session(sid)
        print(f"session {sid}: {done.status}, {stored} issues stored ({done.issues_new} new)")
        for hit in db.search_issues("연결 타임아웃", product="OpenFrame", max_results=3, user_id=user_id):
            print(f"{hit.issue_id}  {hit.rank:.3f}  {hit.title}")


if __name__ == "__main__":
    main()
