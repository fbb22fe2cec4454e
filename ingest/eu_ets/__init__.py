"""EU ETS verified emissions (European Union Transaction Log, euets.info layout)."""
