-- A normalised description of everything the extension defines in schemas
-- ims and ims_index: two databases with the same snapshot have the same schema, whatever
-- the order objects were created in. Used by the upgrade and backup tests.
\pset format unaligned
\pset tuples_only on
SELECT 'column ' || c.relname || '.' || a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
       || CASE WHEN a.attnotnull THEN ' not null' ELSE '' END
       || coalesce(' default ' || pg_get_expr(d.adbin, d.adrelid), '')
       || coalesce(' comment ' || col_description(c.oid, a.attnum), '')
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
  LEFT JOIN pg_attrdef d ON d.adrelid = c.oid AND d.adnum = a.attnum
 WHERE c.relnamespace IN ('ims'::regnamespace, 'ims_index'::regnamespace) AND c.relkind IN ('r', 'p', 'v', 'm') AND NOT c.relispartition
UNION ALL
SELECT 'relation ' || c.relname || ' ' || c.relkind::text || ' rls=' || c.relrowsecurity || '/' || c.relforcerowsecurity
       || ' options=' || coalesce(array_to_string(c.reloptions, ','), '')
       || ' comment=' || coalesce(obj_description(c.oid, 'pg_class'), '')
  FROM pg_class c WHERE c.relnamespace IN ('ims'::regnamespace, 'ims_index'::regnamespace) AND c.relkind IN ('r', 'p', 'v', 'm', 'S') AND NOT c.relispartition
UNION ALL
SELECT 'grant ' || c.relname || ' ' || a.grantee::regrole || ' ' || a.privilege_type
  FROM pg_class c, aclexplode(c.relacl) a
 WHERE c.relnamespace IN ('ims'::regnamespace, 'ims_index'::regnamespace) AND NOT c.relispartition AND a.grantee <> c.relowner
UNION ALL
SELECT 'column grant ' || c.relname || '.' || a.attname || ' ' || x.grantee::regrole || ' ' || x.privilege_type
  FROM pg_class c JOIN pg_attribute a ON a.attrelid = c.oid, aclexplode(a.attacl) x
 WHERE c.relnamespace IN ('ims'::regnamespace, 'ims_index'::regnamespace) AND NOT c.relispartition AND a.attacl IS NOT NULL
UNION ALL
SELECT 'constraint ' || conrelid::regclass || ' ' || conname || ' ' || pg_get_constraintdef(oid)
  FROM pg_constraint WHERE connamespace IN ('ims'::regnamespace, 'ims_index'::regnamespace) AND conparentid = 0
UNION ALL
SELECT 'index ' || regexp_replace(pg_get_indexdef(i.indexrelid), 'ON ONLY', 'ON')
  FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid
 WHERE c.relnamespace IN ('ims'::regnamespace, 'ims_index'::regnamespace) AND NOT c.relispartition
UNION ALL
SELECT 'function ' || p.oid::regprocedure || ' returns ' || pg_get_function_result(p.oid)
       || ' lang=' || l.lanname || ' vol=' || p.provolatile::text || ' par=' || p.proparallel::text
       || ' strict=' || p.proisstrict || ' secdef=' || p.prosecdef
       || ' config=' || coalesce(array_to_string(p.proconfig, ','), '')
       || ' args=' || pg_get_function_arguments(p.oid)
       || ' comment=' || coalesce(obj_description(p.oid, 'pg_proc'), '')
       || CASE WHEN l.lanname IN ('sql', 'plpgsql') THEN ' body=' || md5(p.prosrc) ELSE ' symbol=' || p.prosrc END
  FROM pg_proc p JOIN pg_language l ON l.oid = p.prolang WHERE p.pronamespace = 'ims'::regnamespace
UNION ALL
SELECT 'execute ' || p.oid::regprocedure || ' ' || CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE a.grantee::regrole::text END
  FROM pg_proc p, aclexplode(coalesce(p.proacl, acldefault('f', p.proowner))) a
 WHERE p.pronamespace = 'ims'::regnamespace AND a.grantee <> p.proowner
UNION ALL
SELECT 'policy ' || tablename || ' ' || policyname || ' ' || cmd || ' ' || array_to_string(roles, ',')
       || ' using=' || coalesce(qual, '') || ' check=' || coalesce(with_check, '')
  FROM pg_policies WHERE schemaname = 'ims' AND tablename !~ '^(crawl_sessions|session_issues|session_errors)_\d'
UNION ALL
SELECT 'trigger ' || pg_get_triggerdef(t.oid)
  FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid
 WHERE c.relnamespace IN ('ims'::regnamespace, 'ims_index'::regnamespace) AND NOT t.tgisinternal AND NOT c.relispartition
UNION ALL
SELECT 'view ' || c.relname || ' ' || md5(pg_get_viewdef(c.oid))
  FROM pg_class c WHERE c.relnamespace IN ('ims'::regnamespace, 'ims_index'::regnamespace) AND c.relkind IN ('v', 'm')
UNION ALL
-- The shipped search synonyms are part of what an install brings.
SELECT 'synonym ' || word || ' ' || synonym
  FROM ims_index.search_synonyms WHERE shipped
UNION ALL
SELECT 'member ' || pg_describe_object(d.classid, d.objid, d.objsubid)
  FROM pg_depend d JOIN pg_extension e ON e.oid = d.refobjid
 WHERE e.extname = 'ims_crawler' AND d.deptype = 'e'
ORDER BY 1;
