"""Co-simulation of the RTL twins against the CL face: driver -> monitor -> model -> scoreboard."""
