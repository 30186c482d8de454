"""file -> decoded text -> cleaned, simplified text -> Clause records."""
