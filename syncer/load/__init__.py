"""Loading a metrics root: YAML reading with locations (`yamlread` the bytes, `yamlparse` the tree of
`yamlnodes`), the files of a root (`files`), JSON Schemas (`schema`), settings, catalog and people cache,
and validation of the data files into the desired state (`validate`). Offline by construction: nothing here
imports the HTTP client or a state backend."""
