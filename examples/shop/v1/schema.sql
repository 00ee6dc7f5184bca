CREATE TABLE orgs (id uuid PRIMARY KEY);
CREATE TABLE users (id bigserial PRIMARY KEY, first_name text, last_name text, legacy_field text);
CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id bigint NOT NULL, amount numeric, created_at timestamptz DEFAULT now());
