"""The translation catalogues compiled before a test run, as `make` compiles them.

`make test` compiles locale/*.po to .mo (Babel) before pytest starts; a run started without
make (pytest alone, in a fresh worktree) would otherwise test the pages against no French at
all. Only a missing or older .mo is written, through a temporary file, so that parallel
workers never read half a file.
"""

import os
import tempfile
from pathlib import Path

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po


def catalogues_compile(locale: Path) -> list[Path]:
    """Compile every .po under `locale` whose .mo is missing or older; the .mo files written."""
    written = []
    for po in sorted(locale.glob("*/LC_MESSAGES/*.po")):
        mo = po.with_suffix(".mo")
        if mo.exists() and mo.stat().st_mtime >= po.stat().st_mtime:
            continue
        with po.open("rb") as handle:
            catalog = read_po(handle)
        descriptor, temporary = tempfile.mkstemp(dir=po.parent, suffix=".mo.part")
        with os.fdopen(descriptor, "wb") as handle:
            write_mo(handle, catalog)
        os.replace(temporary, mo)
        written.append(mo)
    return written
