-- 0008_import_progress: what `permafrost import` needs to resume — per
-- import (a hash of source and destination), the source's inventory job
-- and the retrieval job of each archive not yet imported. Rows go when the
-- archive is in (or the import is done).

CREATE TABLE import_progress (
	import_key TEXT NOT NULL,
	name       TEXT NOT NULL,
	value      TEXT NOT NULL,
	updated_at INTEGER NOT NULL,
	PRIMARY KEY (import_key, name)
) STRICT;
