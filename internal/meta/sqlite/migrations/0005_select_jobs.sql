-- 0005_select_jobs: the parameters of Glacier Select jobs (SelectParameters
-- and OutputLocation as JSON; '' for other jobs).

ALTER TABLE jobs ADD COLUMN select_params TEXT NOT NULL DEFAULT '';
