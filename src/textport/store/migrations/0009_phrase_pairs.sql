-- textport store, version 9: an index of adjacent word pairs, so a rare phrase of common
-- words is found without walking most of the full-text index (8-9 ms at a million
-- texts; 0.3-0.5 ms through the pairs, docs/history.md). Each text's pairs ("way_home")
-- are its row, under its message id. Contentless: the pairs are computed in Python from
-- the full-text index's own words (src/textport/store/phrases.py), which no trigger can
-- do, so the store writes them beside each text and removes them with it (bodies never
-- change once stored). Python fills it for the texts already stored, once, when a store
-- first opens at this version ('phrase_pairs' in meta).
CREATE VIRTUAL TABLE message_pairs USING fts5 (
    pairs,
    content = '',
    detail = none,
    columnsize = 0,
    tokenize = "ascii tokenchars '_'"
);
INSERT INTO meta (key, value) VALUES ('phrase_pairs', 'pending');
