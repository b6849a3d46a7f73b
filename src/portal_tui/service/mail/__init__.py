"""Email: notices are queued in the database with the change that causes them, then sent."""
