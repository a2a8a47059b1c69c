"""RTL twins of hwsim's key blocks in Amaranth 0.5, their cocotb benches and the Yosys synthesis flow.

Every twin is a ``wiring.Component`` parametrised from the same config as its Python faces and with
the same port names (``a_in``, ``b_in``, ``c_out``). Verilog is generated into a build folder
(``build/rtl`` by default), never committed. Needs the ``rtl`` extra: ``pip install 'hwsim[rtl]'``.
"""
