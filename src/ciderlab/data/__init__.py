"""Raw data: pulling the archives, reading the template bank, labels, the catalogue and splits."""
