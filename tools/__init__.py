"""Repository tooling that is not science: dvc.yaml's provenance (which source files and which
params each stage reads), checked by the tests. Run from the repository root."""
