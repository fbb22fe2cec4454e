"""English dates as ISO 8601 (2026-03-02), as customs declarations write them; French
and Spanish use Django's own formats (02/03/2026). Templates ask for SHORT_DATE_FORMAT
and SHORT_DATETIME_FORMAT, never for a fixed pattern (docs/languages.md)."""

SHORT_DATE_FORMAT = "Y-m-d"
SHORT_DATETIME_FORMAT = "Y-m-d H:i"
