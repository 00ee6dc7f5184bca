CREATE TABLE orders (
    id bigserial PRIMARY KEY,
    customer_id bigint NOT NULL,
    amount numeric,
    created_at timestamptz DEFAULT now(),
    org_id uuid REFERENCES orgs (id),
    CONSTRAINT chk_amount_positive CHECK (amount > 0)
);

CREATE INDEX idx_orders_customer_date ON orders (customer_id, created_at DESC);
