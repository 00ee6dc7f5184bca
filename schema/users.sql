-- first_name, last_name and legacy_field are gone: display_name replaces the first two.
CREATE TABLE users (
    id bigserial PRIMARY KEY,
    display_name varchar(200) NOT NULL -- zdm:backfill concat(first_name, ' ', last_name)
);
