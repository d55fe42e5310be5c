"""The live tenant, read only: the paced reader (`reader`), `catalog pull` (`pull`, `merge`), `syncer
import` (`importer`), `people resolve` (`people`) and drift (`drift`)."""
