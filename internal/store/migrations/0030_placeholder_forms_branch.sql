-- Placeholder so that this branch (h6-forms, migration 0031) loads: migrations must be numbered without
-- gaps. The seats branches' own 0030 replaces this file on merge; delete it then.
SELECT 1;
