-- PLACEHOLDER on branch h4-clicks only: 0023 belongs to another branch (issue 20's statistics), and
-- migrations must be numbered without gaps. Drop this file when merging; 0024 follows the real 0023.
SELECT 1;
