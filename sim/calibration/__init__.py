"""Calibration: ABC-SMC over scenario key paths, against targets from an observed dataset.

Modules, bottom to top: ``priors`` (prior distributions), ``targets`` (summary statistics and
the distance), ``simulator`` (the block-simulator interface), ``generation`` (a population and
its diagnostics), ``smc`` (the built-in ABC-SMC), ``handoff`` and ``pyabc_engine`` (pyabc with
block evaluation), ``store`` (the calibration folder), ``calibrate`` (run or resume).
"""
