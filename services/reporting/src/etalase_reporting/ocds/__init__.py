"""The OCDS 1.1 release package (docs/ocds.md): its route and the releases it is built from."""
