-- 0002: rebuild `events` without its PRIMARY KEY / UNIQUE indexes.
-- Ingestion guarantees unique event_id (anti-join against the store plus first occurrence
-- in the run) and unique, increasing seq (run base + record ordinal) by construction, and
-- tests check both. DuckDB's ART indexes cost about half of the insert time and memory that
-- grows with the table, for no extra safety.
CREATE TABLE events_0002 (
    event_id VARCHAR NOT NULL,
    occurred_at TIMESTAMP NOT NULL,
    seq BIGINT NOT NULL,
    source VARCHAR NOT NULL,
    event_name VARCHAR NOT NULL,
    channel VARCHAR,
    anonymous_id VARCHAR,
    user_id VARCHAR,
    device_id VARCHAR,
    customer_id VARCHAR,
    session_id VARCHAR,
    value DOUBLE,
    score DOUBLE,
    score_type VARCHAR,
    text VARCHAR,
    properties VARCHAR,
    ingest_run VARCHAR NOT NULL
);
INSERT INTO events_0002 SELECT * FROM events;
DROP TABLE events;
ALTER TABLE events_0002 RENAME TO events;

-- Same for the derived stitching tables: stitching rebuilds them wholesale, and index
-- maintenance was most of its time (identities and customers are unique by GROUP BY).
CREATE TABLE identities_0002 (
    identity_type VARCHAR NOT NULL,
    identity_value VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL
);
INSERT INTO identities_0002 SELECT * FROM identities;
DROP TABLE identities;
ALTER TABLE identities_0002 RENAME TO identities;
CREATE TABLE customers_0002 (
    customer_id VARCHAR NOT NULL,
    identified BOOLEAN NOT NULL,
    n_identities BIGINT NOT NULL,
    email VARCHAR,
    first_name VARCHAR,
    birth_year INTEGER,
    generation VARCHAR,
    country VARCHAR,
    signup_date DATE,
    plan VARCHAR,
    attributes VARCHAR
);
INSERT INTO customers_0002 SELECT * FROM customers;
DROP TABLE customers;
ALTER TABLE customers_0002 RENAME TO customers;
