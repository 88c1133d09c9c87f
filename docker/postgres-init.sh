#!/bin/sh
# Run once by the postgres image on an empty data directory (compose.yaml): the roles of
# the dev stack's least privilege (wastream/dev/postgres.py). wastream_owner owns the
# database and runs the migrations (DATABASE_OWNER_URL); wastream, the services' role,
# is no superuser and gets only the rows of the schemas the migrations create.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
     -v owner_pw="$WASTREAM_DB_OWNER_PASSWORD" -v app_pw="$WASTREAM_DB_PASSWORD" <<'SQL'
CREATE ROLE wastream_owner LOGIN NOSUPERUSER NOCREATEDB CREATEROLE PASSWORD :'owner_pw';
CREATE ROLE wastream LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE PASSWORD :'app_pw';
CREATE DATABASE wastream OWNER wastream_owner;
REVOKE CREATE ON DATABASE wastream FROM PUBLIC;
SQL
