"""Shared pytest options: ``--sim icarus|verilator|both`` picks the simulators of the co-simulation matrix."""


def pytest_addoption(parser):
    parser.addoption("--sim", action="store", default="both", choices=("icarus", "verilator", "both"),
                     help="simulator(s) for the slow RTL co-simulation matrix")
