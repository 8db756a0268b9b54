-- ims_crawler 0.5.0 -> 0.6.0: the search vector is built in its binary form
-- (no text form parsed back by tsvector_in). Vectors already stored are
-- the same values: nothing is rebuilt.
\echo Use "ALTER EXTENSION ims_crawler UPDATE" to load this file. \quit

CREATE OR REPLACE FUNCTION ims.to_search_vector(title text, description text DEFAULT NULL,
                                                comments text DEFAULT NULL, attachments text DEFAULT NULL)
RETURNS pg_catalog.tsvector
IMMUTABLE PARALLEL SAFE
LANGUAGE c
AS 'MODULE_PATHNAME', 'to_search_vector_wrapper';
