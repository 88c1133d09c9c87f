-- Records a projection could not apply (the database refused its values, or a bug):
-- kept here with their bytes and skipped, so that one bad record never stalls a
-- partition. Fix and replay the projection to bring them in.
CREATE TABLE projection_errors (
    projection    text        NOT NULL,
    topic         text        NOT NULL,
    partition     integer     NOT NULL,
    "offset"      bigint      NOT NULL,
    error         text        NOT NULL,
    record_key    bytea,
    record_value  bytea,
    failed_at     timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (projection, topic, partition, "offset")
);
