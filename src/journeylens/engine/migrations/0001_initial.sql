-- 0001: the canonical event table, customers, identity graph, quarantine, ingestion log.
-- Column lists mirror journeylens.events.schema (a test checks they agree).
CREATE TABLE events (
    event_id VARCHAR PRIMARY KEY,
    occurred_at TIMESTAMP NOT NULL,
    seq BIGINT NOT NULL UNIQUE,
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

CREATE TABLE crm_records (
    customer_id VARCHAR PRIMARY KEY,
    email VARCHAR,
    first_name VARCHAR,
    birth_year INTEGER,
    generation VARCHAR,
    country VARCHAR,
    signup_date DATE,
    plan VARCHAR,
    attributes VARCHAR,
    ingest_run VARCHAR NOT NULL
);

CREATE TABLE customers (
    customer_id VARCHAR PRIMARY KEY,
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

CREATE TABLE identities (
    identity_type VARCHAR NOT NULL,
    identity_value VARCHAR NOT NULL,
    customer_id VARCHAR NOT NULL,
    PRIMARY KEY (identity_type, identity_value)
);

CREATE TABLE identity_edges (
    a_type VARCHAR NOT NULL,
    a_value VARCHAR NOT NULL,
    b_type VARCHAR NOT NULL,
    b_value VARCHAR NOT NULL,
    origin VARCHAR NOT NULL,
    n_events BIGINT NOT NULL
);

CREATE TABLE identity_edges_refused (
    a_type VARCHAR NOT NULL,
    a_value VARCHAR NOT NULL,
    b_type VARCHAR NOT NULL,
    b_value VARCHAR NOT NULL,
    origin VARCHAR NOT NULL,
    reason VARCHAR NOT NULL,
    linked_users BIGINT NOT NULL
);

CREATE TABLE quarantine (
    run_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    file VARCHAR NOT NULL,
    line BIGINT,
    field VARCHAR,
    value VARCHAR,
    reason VARCHAR NOT NULL,
    expected VARCHAR,
    raw VARCHAR
);

CREATE TABLE ingest_log (
    run_id VARCHAR NOT NULL,
    source VARCHAR NOT NULL,
    format VARCHAR NOT NULL,
    files VARCHAR NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_stored BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    rows_duplicate BIGINT NOT NULL,
    events_stored BIGINT NOT NULL,
    started_at TIMESTAMP NOT NULL,
    finished_at TIMESTAMP,
    status VARCHAR NOT NULL,
    message VARCHAR
);
