"""The baseline programs the benchmarks run side by side with portal-tui, each started as a
script of its own under the same pty."""
