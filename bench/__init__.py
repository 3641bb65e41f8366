"""Performance measurements, run by `make bench`: numbers to read, never assertions."""
