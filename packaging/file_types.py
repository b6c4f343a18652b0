"""File types PhotoRestore opens, for the installers' desktop integration.

One list for the Linux MIME XML and .desktop entry (packaging/deb/), the macOS Info.plist (used by
packaging/photorestore.spec) and the Windows installer (packaging/windows/photorestore.iss);
tests/packaging checks the static files against it and against the extensions app.core.io decodes.
"""

from __future__ import annotations

#: (MIME type as freedesktop.org's shared-mime-info names it, file extensions, description).
RAW_TYPES = [
    ("image/x-canon-cr2", ["cr2"], "Canon CR2 raw image"),
    ("image/x-canon-cr3", ["cr3"], "Canon CR3 raw image"),
    ("image/x-canon-crw", ["crw"], "Canon CRW raw image"),
    ("image/x-nikon-nef", ["nef"], "Nikon NEF raw image"),
    ("image/x-nikon-nrw", ["nrw"], "Nikon NRW raw image"),
    ("image/x-sony-arw", ["arw"], "Sony ARW raw image"),
    ("image/x-sony-sr2", ["sr2"], "Sony SR2 raw image"),
    ("image/x-sony-srf", ["srf"], "Sony SRF raw image"),
    ("image/x-adobe-dng", ["dng"], "Adobe DNG negative"),
    ("image/x-olympus-orf", ["orf"], "Olympus ORF raw image"),
    ("image/x-panasonic-rw2", ["rw2"], "Panasonic RW2 raw image"),
    ("image/x-panasonic-rw", ["raw"], "Panasonic raw image"),
    ("image/x-fuji-raf", ["raf"], "Fujifilm RAF raw image"),
    ("image/x-pentax-pef", ["pef"], "Pentax PEF raw image"),
    ("image/x-sigma-x3f", ["x3f"], "Sigma X3F raw image"),
    ("image/x-minolta-mrw", ["mrw"], "Minolta MRW raw image"),
    ("image/x-kodak-dcr", ["dcr"], "Kodak DCR raw image"),
    ("image/x-kodak-kdc", ["kdc"], "Kodak KDC raw image"),
    ("image/x-kodak-k25", ["k25"], "Kodak K25 raw image"),
    # Not (yet) in shared-mime-info 2.2; the names other RAW tools use, so an association can be shared.
    ("image/x-samsung-srw", ["srw"], "Samsung SRW raw image"),
    ("image/x-hasselblad-3fr", ["3fr"], "Hasselblad 3FR raw image"),
    ("image/x-hasselblad-fff", ["fff"], "Hasselblad FFF raw image"),
    ("image/x-epson-erf", ["erf"], "Epson ERF raw image"),
    ("image/x-mamiya-mef", ["mef"], "Mamiya MEF raw image"),
    ("image/x-leaf-mos", ["mos"], "Leaf MOS raw image"),
    ("image/x-phaseone-iiq", ["iiq"], "Phase One IIQ raw image"),
    ("image/x-leica-rwl", ["rwl"], "Leica RWL raw image"),
]
#: The parent type of every RAW type above; listing it in the .desktop entry covers RAW types a newer
#: shared-mime-info adds.
RAW_PARENT_TYPE = "image/x-dcraw"
RASTER_TYPES = [
    ("image/jpeg", ["jpg", "jpeg", "jpe"], "JPEG image"),
    ("image/png", ["png"], "PNG image"),
    ("image/tiff", ["tif", "tiff"], "TIFF image"),
    ("image/webp", ["webp"], "WebP image"),
    ("image/bmp", ["bmp"], "Windows BMP image"),
]
FILE_TYPES = RAW_TYPES + RASTER_TYPES


def macos_info_plist(version: str) -> dict:
    """Info.plist keys for PhotoRestore.app (merged by PyInstaller's BUNDLE over its defaults)."""
    return {
        "CFBundleName": "PhotoRestore",
        "CFBundleDisplayName": "PhotoRestore",
        "CFBundleShortVersionString": version,
        "CFBundleVersion": version,
        "LSMinimumSystemVersion": "12.0",
        "NSHighResolutionCapable": True,
        "NSRequiresAquaSystemAppearance": False,  # follow dark mode
        "LSApplicationCategoryType": "public.app-category.photography",
        "CFBundleDocumentTypes": [
            {
                "CFBundleTypeName": "Raw camera image",
                "CFBundleTypeRole": "Editor",
                "LSHandlerRank": "Alternate",  # never steal RAW files from Photos/Lightroom
                "LSItemContentTypes": ["public.camera-raw-image"],
                "CFBundleTypeExtensions": [ext for _, exts, _ in RAW_TYPES for ext in exts],
            },
            {
                "CFBundleTypeName": "Image",
                "CFBundleTypeRole": "Editor",
                "LSHandlerRank": "Alternate",
                "LSItemContentTypes": [
                    "public.jpeg",
                    "public.png",
                    "public.tiff",
                    "org.webmproject.webp",
                    "com.microsoft.bmp",
                ],
            },
        ],
    }
