"""graceful_emulator: moto 5.2.5 in server mode plus what the drain flow needs from AWS (see README.md)."""
