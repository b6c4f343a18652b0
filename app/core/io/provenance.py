"""Was a file written by PhotoRestore? (Batch export must not take its own outputs as inputs.)

Every export carries the EXIF/TIFF ``Software`` tag ``PhotoRestore <version>`` (with or without the
photo's other metadata: :func:`app.core.io.export.save_image`), so the answer comes from the file itself,
not from its name (a renamed output is still recognised; a photo called ``*_restored.jpg`` that we did not
write is not skipped).
"""

from __future__ import annotations

import os

SOFTWARE_PREFIX = "PhotoRestore"
_SOFTWARE_TAG = 0x0131  # EXIF / TIFF "Software"


def software_tag(path: str | os.PathLike[str]) -> str | None:
    """The file's ``Software`` tag (JPEG/PNG/WebP EXIF, TIFF IFD0), or None when absent or unreadable."""
    from PIL import Image as PILImage

    try:
        with PILImage.open(path) as im:
            value = im.getexif().get(_SOFTWARE_TAG)
    except Exception:  # noqa: BLE001 - RAW files, truncated files: "not ours" is the safe answer
        return None
    if isinstance(value, bytes):
        value = value.decode("latin-1", "replace")
    return str(value).strip("\x00 ") if value else None


def written_by_photorestore(path: str | os.PathLike[str]) -> bool:
    """True when ``path`` carries PhotoRestore's ``Software`` tag."""
    tag = software_tag(path)
    return bool(tag and tag.startswith(SOFTWARE_PREFIX))
