-- ims_crawler 0.10.0 -> 0.11.0: search reads spoken Korean further (issue
-- #24). The stemmer drops the auxiliaries 지다 and 버리다 and the state 있다
-- after a connective (느려졌어요 -> 느리, 죽어버려요 -> 죽, 멈춰있어요 ->
-- 멈추) and reads 요 after a stem in ㅏ/ㅓ (올라가요 -> 올라가): issues
-- stored before the update keep their old stems until they are written
-- again or ims.refresh_search_vectors recomputes them (README). New
-- shipped synonyms: more loanwords, and symptoms as people say them with
-- the words issues write for them. A row an administrator already added
-- with the same words becomes a shipped one (a dump then leaves it to the
-- extension, which brings it back).
\echo Use "ALTER EXTENSION ims_crawler UPDATE" to load this file. \quit

INSERT INTO ims_index.search_synonyms (word, synonym, shipped)
SELECT DISTINCT x.w, x.s, true
  FROM (VALUES
    ('매니지드', 'managed'), ('도메인', 'domain'), ('데이터소스', 'datasource'), ('커널', 'kernel'),
    ('파라미터', 'parameter'), ('디스크', 'disk'), ('네트워크', 'network'), ('계정', 'account'),
    ('방화벽', 'firewall'), ('모니터링', 'monitoring'), ('라이브러리', 'library'), ('플러그인', 'plugin'),
    ('죽어요', '다운'), ('죽어요', 'crash'), ('죽어요', 'down'), ('죽어요', '종료'), ('다운', 'crash'),
    ('다운', 'down'), ('뻗어요', '다운'), ('뻗어요', 'hang'), ('먹통', 'hang'), ('먹통', '멈춤'), ('멈춤', 'hang'),
    ('멈춤', 'freeze'), ('멈춤', '중단'), ('느림', '지연'), ('느림', '저하'), ('느림', 'delay'), ('지연', 'delay'),
    ('올라가요', '기동'), ('올라가요', 'startup'), ('기동', 'boot'), ('끊김', 'disconnect'), ('끊김', '단절'),
    ('튕김', '끊김'), ('깨짐', 'garbled')
  ) AS g(a, b),
  LATERAL (VALUES (g.a, g.b), (g.b, g.a)) AS x(w, s)
ON CONFLICT (word, synonym) DO UPDATE SET shipped = true;
