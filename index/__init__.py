"""Clause -> vectors + keyword index, persisted, versioned, checksummed."""
