-- Run once by the postgres image on an empty volume (docker-entrypoint-initdb.d), as POSTGRES_USER
-- (etalase), who then owns these: one database per service.
CREATE DATABASE etalase_registration;
CREATE DATABASE etalase_catalog;
CREATE DATABASE etalase_purchasing;
CREATE DATABASE etalase_reporting;
