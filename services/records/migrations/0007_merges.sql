-- Rows moved from a merged learner to the survivor, per merge, so an unmerge can move them back.
CREATE TABLE merge_moves (
    merge_id    uuid NOT NULL,
    table_name  text NOT NULL,
    row_key     text NOT NULL,
    PRIMARY KEY (merge_id, table_name, row_key)
);
