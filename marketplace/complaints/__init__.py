"""Complaints (投诉) by parties and reports (举报) by anyone: numbered, time-limited, decided by supervisors; an
upheld complaint announces its consequences (credit, suspension, a selection redone) as a domain event."""
