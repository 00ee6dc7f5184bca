-- The bundled example's migration done the naive way: plain ALTERs, a validating CHECK and
-- foreign key, a plain CREATE INDEX, an UPDATE of every row and SET NOT NULL, all in one
-- transaction. The benchmark (examples/zero_downtime.rs) and the traffic test
-- (tests/apply_traffic.rs) run it to show the stall zdm avoids.
BEGIN;
ALTER TABLE orders ADD COLUMN org_id uuid REFERENCES orgs (id);
ALTER TABLE orders ADD CONSTRAINT chk_amount_positive CHECK (amount > 0);
CREATE INDEX idx_orders_customer_date ON orders (customer_id, created_at DESC);
ALTER TABLE users ADD COLUMN display_name varchar(200);
UPDATE users SET display_name = concat(first_name, ' ', last_name);
ALTER TABLE users ALTER COLUMN display_name SET NOT NULL;
COMMIT;
