-- Version numbers against stale edits (issue 18, seats): customers.version
-- goes up by one with every change to the customer's row or to what its card
-- shows beside it (contact points, products, custom attributes, tags, the
-- LINE link), in the transaction that makes the change. Triggers, not the
-- writers, bump it, so every writer counts: staff edits, import, CLI,
-- linking, surveys, administrators' deletions, erasure. An edit sends the
-- version its view loaded and is refused if it is not the current one
-- (customer.ErrStale).
ALTER TABLE customers ADD COLUMN version INTEGER NOT NULL DEFAULT 1;

-- A write that leaves version alone bumps it; the bump itself changes
-- version, so it does not fire again.
CREATE TRIGGER customers_version AFTER UPDATE ON customers
WHEN NEW.version = OLD.version BEGIN
    UPDATE customers SET version = OLD.version + 1 WHERE id = NEW.id;
END;

CREATE TRIGGER contact_points_version_insert AFTER INSERT ON contact_points BEGIN
    UPDATE customers SET version = version + 1 WHERE id = NEW.customer_id;
END;
CREATE TRIGGER contact_points_version_delete AFTER DELETE ON contact_points BEGIN
    UPDATE customers SET version = version + 1 WHERE id = OLD.customer_id;
END;
CREATE TRIGGER contact_points_version_update AFTER UPDATE ON contact_points BEGIN
    UPDATE customers SET version = version + 1 WHERE id IN (OLD.customer_id, NEW.customer_id);
END;
CREATE TRIGGER products_version_insert AFTER INSERT ON products BEGIN
    UPDATE customers SET version = version + 1 WHERE id = NEW.customer_id;
END;
CREATE TRIGGER products_version_delete AFTER DELETE ON products BEGIN
    UPDATE customers SET version = version + 1 WHERE id = OLD.customer_id;
END;
CREATE TRIGGER products_version_update AFTER UPDATE ON products BEGIN
    UPDATE customers SET version = version + 1 WHERE id IN (OLD.customer_id, NEW.customer_id);
END;
CREATE TRIGGER customer_attributes_version_insert AFTER INSERT ON customer_attributes BEGIN
    UPDATE customers SET version = version + 1 WHERE id = NEW.customer_id;
END;
CREATE TRIGGER customer_attributes_version_delete AFTER DELETE ON customer_attributes BEGIN
    UPDATE customers SET version = version + 1 WHERE id = OLD.customer_id;
END;
CREATE TRIGGER customer_attributes_version_update AFTER UPDATE ON customer_attributes BEGIN
    UPDATE customers SET version = version + 1 WHERE id IN (OLD.customer_id, NEW.customer_id);
END;
CREATE TRIGGER customer_tags_version_insert AFTER INSERT ON customer_tags BEGIN
    UPDATE customers SET version = version + 1 WHERE id = NEW.customer_id;
END;
CREATE TRIGGER customer_tags_version_delete AFTER DELETE ON customer_tags BEGIN
    UPDATE customers SET version = version + 1 WHERE id = OLD.customer_id;
END;
CREATE TRIGGER customer_tags_version_update AFTER UPDATE ON customer_tags BEGIN
    UPDATE customers SET version = version + 1 WHERE id IN (OLD.customer_id, NEW.customer_id);
END;
CREATE TRIGGER customer_line_links_version_insert AFTER INSERT ON customer_line_links BEGIN
    UPDATE customers SET version = version + 1 WHERE id = NEW.customer_id;
END;
CREATE TRIGGER customer_line_links_version_delete AFTER DELETE ON customer_line_links BEGIN
    UPDATE customers SET version = version + 1 WHERE id = OLD.customer_id;
END;
CREATE TRIGGER customer_line_links_version_update AFTER UPDATE ON customer_line_links BEGIN
    UPDATE customers SET version = version + 1 WHERE id IN (OLD.customer_id, NEW.customer_id);
END;

-- The customer card names who changed it last (the newest audit entry on
-- the customer that is not a view), so a refused edit can say who.
CREATE INDEX audit_by_target ON audit_log(target, seq);
