"""Approximate-multiplier study: error metrics, hardware cost, application accuracy, report."""
