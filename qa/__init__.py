"""question -> retrieved clauses -> cited answer (or an honest \"not found\")."""
