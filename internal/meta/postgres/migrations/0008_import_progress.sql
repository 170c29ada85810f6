-- 0008_import_progress: what `permafrost import` needs to resume — per
-- import (a hash of source and destination), the source's inventory job
-- and the retrieval job of each archive not yet imported. Rows go when the
-- archive is in (or the import is done).

CREATE TABLE import_progress (
	import_key text COLLATE "C" NOT NULL,
	name       text COLLATE "C" NOT NULL,
	value      text NOT NULL,
	updated_at bigint NOT NULL,
	PRIMARY KEY (import_key, name)
);
