"""Ids and numbers as shops write them, made canonical column by column (no row loops).

Ids are text: trimmed, leading zeros kept (``" 007 "`` is ``"007"``), and an id a file typed as
a number is the text of that number (``7`` and ``7.0`` are ``"7"``), so a customer is the same
whichever file or format an id came from. Numbers in text follow the source's ``decimal`` and
``thousands`` separators (``"1.234,56"`` with ``decimal=","`` and ``thousands="."``); a value
with a currency symbol or unit around it (``"€12.50"``, ``"12,50 zł"``) is recognised so that
it can be refused by name rather than read as a missing number.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# types pandas infers for an object column holding Python strings among other values
_MIXED = ("mixed", "mixed-integer")
# a number with something around it that is not part of a number: "€12.50", "12,50 zł", "$3"
_NUMBER = r"[+-]?\d[\d.,' ]*"
_PREFIX = r"[^\d\s+\-.,;:|]{1,4}\s?"
_SUFFIX = r"\s?[^\d\s.,;:|]{1,4}\.?"
_AFFIXED = rf"[+-]?(?:{_PREFIX}{_NUMBER}(?:{_SUFFIX})?|{_NUMBER}{_SUFFIX})"


def text_cells(values: pd.Series) -> np.ndarray:
    """Which cells hold Python strings (not numbers, not missing)."""
    if pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
        return np.zeros(len(values), dtype=bool)
    kind = pd.api.types.infer_dtype(values, skipna=True)
    if kind in ("string", "empty"):
        return values.notna().to_numpy()
    if kind in _MIXED:
        return values.str.len().notna().to_numpy()  # .str gives NaN for non-strings
    return np.zeros(len(values), dtype=bool)


def text_ids(values: pd.Series) -> pd.Series:
    """Ids as trimmed text; numbers as the text of the number (``7.0`` -> ``"7"``)."""
    is_text = text_cells(values)
    other = ~is_text & values.notna().to_numpy()
    if not other.any():  # text and missing cells only: a CSV's, most sources'
        return values.astype("string").str.strip()
    out = pd.Series(pd.NA, index=values.index, dtype="string")
    if is_text.any():
        out[is_text] = values[is_text].astype("string").str.strip().to_numpy()
    out[other] = _number_ids(values[other]).to_numpy()
    return out


def _number_ids(values: pd.Series) -> pd.Series:
    """The text of numeric ids: whole numbers without a fraction (``7.0`` -> ``"7"``)."""
    numbers = pd.to_numeric(values, errors="coerce")
    text = values.astype("string")  # what is no number (a bool, a list) keeps its text
    if pd.api.types.is_float_dtype(numbers):
        whole = (numbers == np.floor(numbers)) & (numbers.abs() < 2.0**63)
        text[whole] = numbers[whole].astype("int64").astype("string")
        text[numbers.notna() & ~whole] = numbers[numbers.notna() & ~whole].astype("string")
    elif pd.api.types.is_integer_dtype(numbers):
        text = numbers.astype("string")
    return text


def _literal(separator: str) -> str:
    """A separator in a regular expression: only ``.`` of the allowed ones is special."""
    return r"\." if separator == "." else separator


def number_pattern(decimal: str, thousands: str | None) -> str:
    """A number written with these separators: ``1.234,56`` for ``","`` and ``"."``.

    The separators are config-checked characters (``.``, ``,``, ``'`` or a space); the
    pattern is both Python's and RE2's (pyarrow-backed strings match with RE2).
    """
    d = _literal(decimal)
    whole = r"\d+" if thousands is None else rf"(?:\d{{1,3}}(?:{_literal(thousands)}\d{{3}})+|\d+)"
    return rf"[+-]?(?:{whole}(?:{d}\d*)?|{d}\d+)(?:[eE][+-]?\d+)?"


def parse_numbers(values: pd.Series, decimal: str = ".", thousands: str | None = None) -> pd.Series:
    """Floats from numbers or text; missing cells and text that is no number are NaN.

    With the default separators text is read as pandas reads numbers (``"inf"``, ``"1e3"``).
    With others, a text value must be written with exactly those separators: ``"12.50"``
    when ``decimal`` is ``","`` is no number (it may mean 12.5 or 1250), never a guess.
    """
    if decimal == "." and thousands is None:
        return pd.Series(_floats(values), index=values.index)
    is_text = text_cells(values)
    out = np.full(len(values), np.nan)
    if (~is_text).any():
        out[~is_text] = _floats(values[~is_text])
    if is_text.any():
        text = values[is_text].astype("string").str.strip()
        written = _matches(text, number_pattern(decimal, thousands))
        plain = text
        if thousands is not None:
            plain = plain.str.replace(thousands, "", regex=False)
        plain = plain.str.replace(decimal, ".", regex=False)
        # text without any separator ("inf", "NaN", "1e3") is read as with the default ones
        bare = ~_matches(text, f".*[.,{thousands or ''}].*")
        out[is_text] = _floats(plain.where(written, text.where(bare)))
    return pd.Series(out, index=values.index)


def _floats(values: pd.Series) -> np.ndarray:
    """``values`` as float64, NaN where missing or no number (pandas' own number parsing)."""
    return pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64", na_value=np.nan)


def _matches(text: pd.Series, pattern: str) -> np.ndarray:
    """Which cells of a text column match ``pattern`` as a whole (missing ones do not)."""
    return text.str.fullmatch(pattern).to_numpy(dtype=bool, na_value=False)


def affixed_numbers(values: pd.Series, parsed: pd.Series) -> pd.Series:
    """Text cells that are no number because of a currency symbol or unit around one."""
    bad = pd.Series(text_cells(values), index=values.index) & parsed.isna()
    if not bad.any():
        return bad
    text = values[bad].astype("string").str.strip()
    bad[bad] = _matches(text, _AFFIXED)
    return bad
