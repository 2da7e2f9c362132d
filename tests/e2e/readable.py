"""What the browser tests check on a page a person reads, measured in the browser itself.

``overflowing`` lists the boxes whose content is wider than the box (``scrollWidth`` beyond
``clientWidth``): a word that sticks out of its card, a table wider than its frame.
``machine_names`` finds snake_case words in a text, which people should not have to read.
"""

from __future__ import annotations

import re
from typing import Any

# every element matching the selector, as "tag.class "text…" scrollWidth>clientWidth" when its
# content is wider than its box (1 px of slack for sub-pixel rounding)
_OVERFLOWING = """
return Array.from(document.querySelectorAll(arguments[0]))
  .filter(e => e.clientWidth > 0 && e.scrollWidth > e.clientWidth + 1)
  .map(e => `${e.tagName.toLowerCase()}.${e.className} "${e.textContent.trim().slice(0, 60)}" `
            + `${e.scrollWidth}>${e.clientWidth}`);
"""
SNAKE_CASE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def overflowing(driver: Any, selector: str) -> list[str]:
    """The elements matching ``selector`` whose content overflows them horizontally."""
    return list(driver.execute_script(_OVERFLOWING, selector))


def page_overflows(driver: Any) -> bool:
    """Whether the page itself is wider than the window (a horizontal scrollbar)."""
    return bool(
        driver.execute_script(
            "const d = document.documentElement; return d.scrollWidth > d.clientWidth + 1;"
        )
    )


def machine_names(text: str, allowed: tuple[str, ...] = ()) -> list[str]:
    """The snake_case words of ``text`` (column names), except the ``allowed`` ones."""
    return sorted({w for w in SNAKE_CASE.findall(text) if w not in allowed})
