"""The firm database: models, engine set-up and migrations."""
