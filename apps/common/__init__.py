"""The kit every area uses: streaming CSV/XLSX exports, filter forms written without the
template engine, table links, the API's filters, filter backend and pagination. It imports
no other app (docs/contributing.md, "Layers")."""
