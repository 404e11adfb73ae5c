"""Domain services. Each takes a session (the caller owns the transaction) and returns rows."""
