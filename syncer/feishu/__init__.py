"""The Feishu HTTP client: auth, endpoints, error codes, retries. See feishu-api.md for the facts."""

from __future__ import annotations

from syncer.feishu.auth import APP_ID_ENV, APP_SECRET_ENV, Credentials, credentials_from_env
from syncer.feishu.client import ReadClient, WriteClient
from syncer.feishu.codes import CODES, CodeInfo, Scope, describe, scope_of
from syncer.feishu.errors import (
    AuthError,
    BadResponseError,
    DuplicateTokenError,
    FeishuAPIError,
    InsecureBaseURLError,
    MissingCredentialsError,
    NetworkError,
    RateLimitedError,
    RequestBugError,
    RequestRejected,
    RevieweeRejected,
    RowRejected,
    ServerError,
)
from syncer.feishu.records import ImportedMetric, ImportedMetricField, import_body
from syncer.feishu.retry import RetryPolicy
from syncer.feishu.session import USER_AGENT, RequestGate
from syncer.feishu.urls import check_base_url, resolve_base_url

__all__ = [
    "APP_ID_ENV",
    "APP_SECRET_ENV",
    "CODES",
    "USER_AGENT",
    "AuthError",
    "BadResponseError",
    "CodeInfo",
    "Credentials",
    "DuplicateTokenError",
    "FeishuAPIError",
    "ImportedMetric",
    "ImportedMetricField",
    "InsecureBaseURLError",
    "MissingCredentialsError",
    "NetworkError",
    "RateLimitedError",
    "ReadClient",
    "RequestBugError",
    "RequestGate",
    "RequestRejected",
    "RetryPolicy",
    "RevieweeRejected",
    "RowRejected",
    "Scope",
    "ServerError",
    "WriteClient",
    "check_base_url",
    "credentials_from_env",
    "describe",
    "import_body",
    "resolve_base_url",
    "scope_of",
]
