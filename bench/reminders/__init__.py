"""bench/reminders: the reminder dispatcher with 20,000 reminders due in one minute."""
