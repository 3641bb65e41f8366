"""The notifier: renders and sends every email, and keeps its delivery state."""
