"""syncer: Feishu Performance key-metric values as code."""

__version__ = "0.1.0"
