"""Reading the files a firm already has — its practice-management system's CSV exports, LEDES
1998B invoice files, .ics calendars — into plain records, or one refusal naming every bad line.

Parsing only: text in, records out, nothing written. The repository matches the records on the
firm's own ids (CLIENT_ID, LAW_FIRM_MATTER_ID, INVOICE_NUMBER, UID) and writes a whole file in
one transaction (docs/importing.md)."""
