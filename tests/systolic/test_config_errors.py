"""Invalid unit configs give one readable line per problem naming the field and the value."""

import pytest
from pydantic import ValidationError

from hwsim.errors import format_validation_error
from hwsim.systolic.config import SystolicConfig


def lines(**kw):
    with pytest.raises(ValidationError) as err:
        SystolicConfig(**kw)
    return format_validation_error(err.value, "unit")


def test_messages_name_field_value_and_range():
    assert lines(rows=0, cols=4) == ["unit.rows: Input should be greater than or equal to 1, got 0"]
    assert lines(rows=4, cols=4, dataflow="xs") == ["unit.dataflow: Input should be 'os', 'ws' or 'is', got 'xs'"]
    assert lines(rows=4, cols=4, colour="red") == ["unit.colour: unknown key (not a field of this config)"]
    assert lines(cols=4) == ["unit.rows: required field is missing"]
    got = lines(rows=4, cols=4, pe={"input": "int8", "accumulator": "fp32"})
    assert got == ["unit.pe: accumulator fp32 does not suit input int8 (integer inputs need int32/int48/int64, "
                   "fp16/bf16 need fp32), got {'input': 'int8', 'accumulator': 'fp32'}"]
    assert lines(rows=4, cols=4, pe={"input": "int7"}) == [
        "unit.pe.input: must be one of int4, int8, int16, uint4, uint8, uint16, fp16, bf16, got 'int7'"]
    got = lines(rows=4, cols=4, pe={"input": "int16", "accumulator": "int32", "multiplier": {"kind": "magic"}})
    assert got == ["unit.pe.multiplier.kind: unknown multiplier; allowed: bam, compressor, drum, exact, mitchell, truncated, got 'magic'"]


def test_two_problems_two_lines():
    assert len(lines(rows=0, cols=-1)) == 2


def test_multiplier_parameters_are_checked_at_config_time():
    got = lines(rows=4, cols=4, pe={"input": "int8", "multiplier": {"kind": "drum", "params": {"k": 20}}})
    assert got == ["unit.pe: multiplier.params.k: must be an integer in [2, 8], got 20"]
    got = lines(rows=4, cols=4, pe={"input": "int8", "multiplier": {"kind": "mitchell", "params": {"k": 2}}})
    assert got[0].startswith("unit.pe: multiplier.params: unknown for mitchell: k; allowed: (none)")
