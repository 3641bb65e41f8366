"""The scheduler: owns time (deadlines, reminders, postponements) and builds the calendars."""
