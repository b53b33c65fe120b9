"""Business logic: one service per capability. Services never build HTTP responses."""
