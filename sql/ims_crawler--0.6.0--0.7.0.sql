-- ims_crawler 0.6.0 -> 0.7.0: searches rank frequent words through block
-- bounds and keep decoded posting lists per backend (ims.search_cache_size);
-- the probe for issues newer than the index compares stamps as numbers.
-- All of it is in the library: no object of the schema changes.
\echo Use "ALTER EXTENSION ims_crawler UPDATE" to load this file. \quit
