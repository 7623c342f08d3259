"""The fuzz suite runs in a process like the application's: WeasyPrint, which the record's
renderer imports, sets Pillow's LOAD_TRUNCATED_IMAGES for the whole process on import, and a
drawn signature is checked under that setting in production."""

import weasyprint  # noqa: F401
