-- A customer's imported phone, mobile and email become columns of customers.
-- A core-banking export carries at most one of each per customer, and as rows
-- of contact_points they cost a million-row import two more B-tree inserts
-- each (table and unique index), about a third of its time. contact_points
-- keeps the extra values staff enter by hand (source 'manual').
-- Phones are digits only, emails lowercased, '' when unknown.
ALTER TABLE customers ADD COLUMN phone  TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN mobile TEXT NOT NULL DEFAULT '';
ALTER TABLE customers ADD COLUMN email  TEXT NOT NULL DEFAULT '';

UPDATE customers SET
    phone  = coalesce((SELECT value FROM contact_points p WHERE p.customer_id = customers.id AND p.kind = 'phone'  AND p.source = 'import' ORDER BY p.id LIMIT 1), ''),
    mobile = coalesce((SELECT value FROM contact_points p WHERE p.customer_id = customers.id AND p.kind = 'mobile' AND p.source = 'import' ORDER BY p.id LIMIT 1), ''),
    email  = coalesce((SELECT value FROM contact_points p WHERE p.customer_id = customers.id AND p.kind = 'email'  AND p.source = 'import' ORDER BY p.id LIMIT 1), '')
WHERE id IN (SELECT customer_id FROM contact_points WHERE source = 'import');

-- Moved into the columns above (an import wrote one value per kind).
DELETE FROM contact_points WHERE source = 'import';

-- Contracts are imported too (importer kind 'contracts'), keyed by customer,
-- product code and account number; products entered by hand (source
-- 'manual') are never matched or closed by an import.
ALTER TABLE products ADD COLUMN account_no TEXT NOT NULL DEFAULT '';
ALTER TABLE products ADD COLUMN created_import INTEGER;   -- imports.id that created the row
ALTER TABLE products ADD COLUMN updated_import INTEGER;
CREATE UNIQUE INDEX products_import_key ON products(customer_id, product_code, account_no) WHERE source = 'import';

-- What an import filled: customers or their contracts.
ALTER TABLE imports ADD COLUMN kind TEXT NOT NULL DEFAULT 'customers' CHECK (kind IN ('customers','contracts'));
