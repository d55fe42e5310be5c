"""Spreadsheets both ways: the data files as a table of rows (`syncer sheet export`), and a table read back
into edits of the data files (`syncer sheet import`). Only this package imports openpyxl, lazily."""
