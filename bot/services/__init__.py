"""Services: the engine, records and documents, scheduled jobs and calendar sources (I/O)."""
