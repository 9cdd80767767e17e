"""English dates as the game has always written them (25 Oct 2025, 14:30: a 24-hour clock, as a
classroom's schedule reads), instead of Django's American defaults (Oct. 25, 2025, 2:30 p.m.).
The other languages keep Django's own formats (docs/translations.md)."""

DATE_FORMAT = "j M Y"
TIME_FORMAT = "H:i"
DATETIME_FORMAT = "j M Y, H:i"
SHORT_DATE_FORMAT = "j M Y"
SHORT_DATETIME_FORMAT = "j M Y, H:i"
