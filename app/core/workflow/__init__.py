"""The use cases, shared by the GUI, the CLI and tests: no Qt here, and nothing the GUI does that the CLI
cannot do through the same functions.

* :mod:`.files` -- which files open, and opening one (the one RAW policy);
* :mod:`.preview` -- what the preview and the 1:1 detail render from (a RAW stays a mosaic);
* :mod:`.render` -- running a recipe (preview, detail, full size);
* :mod:`.export` -- render at full size and save (single, batch, CLI run);
* :mod:`.auto` -- the Auto recipe as steps;
* :mod:`.quality` -- the quality report of a result.
"""

from app.core.workflow.auto import AUTO, AutoRecipe, auto_recipe, expand_auto
from app.core.workflow.export import (
    FORMATS,
    ExportOptions,
    default_format,
    dng_kind_for,
    export_file,
    export_image,
    output_path,
    unique_path,
)
from app.core.workflow.files import SUPPORTED_EXTENSIONS, is_photo, open_photo, open_quick, photos_in
from app.core.workflow.preview import detail_source, fit_development, preview_source, starts_on_mosaic
from app.core.workflow.render import developed, render, render_full

__all__ = [
    "AUTO", "FORMATS", "SUPPORTED_EXTENSIONS", "AutoRecipe", "ExportOptions", "auto_recipe", "default_format",
    "detail_source", "developed", "dng_kind_for", "expand_auto", "export_file", "export_image",
    "fit_development", "is_photo",
    "open_photo", "open_quick", "output_path", "photos_in", "preview_source", "render", "render_full",
    "starts_on_mosaic", "unique_path",
]
