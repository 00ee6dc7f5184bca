CREATE TABLE orgs (
    id uuid PRIMARY KEY
);
