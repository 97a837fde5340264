"""ShiftBench: store, test-run and compare Shape Shifter configurations."""

__version__ = "0.1.0"
