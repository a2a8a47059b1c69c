"""Mapping an LLM operator graph onto a system: the system description and the per-operator mapper.

* :mod:`hwsim.mapping.system`: :class:`SystemSpec` (dies, package), :class:`DieSpec` (systolic units,
  PE formats, shared SRAM, vector unit, DRAM/HBM), :class:`VectorSpec`; presets in
  ``examples/systems/`` (:func:`load_system`, :func:`system_names`).
* :mod:`hwsim.mapping.mapper`: :func:`map_op` maps one :class:`~hwsim.llm.graph.Op` onto one die and
  returns an :class:`OpCost` (time, bound, HBM bytes, energy, the mapping chosen).

See docs/mapping.md.
"""

from hwsim.mapping.mapper import OpCost, evaluate_mapping, map_op, search_candidates
from hwsim.mapping.system import DieSpec, SystemSpec, VectorSpec, load_system, parse_system, system_names

__all__ = ["DieSpec", "OpCost", "SystemSpec", "VectorSpec", "evaluate_mapping", "load_system", "map_op",
           "parse_system", "search_candidates", "system_names"]
