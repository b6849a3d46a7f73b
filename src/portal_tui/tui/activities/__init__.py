"""Activities: invoices, events, tasks, notes and messages across all matters."""
