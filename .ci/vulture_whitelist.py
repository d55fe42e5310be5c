# What vulture reports as unused in syncer/ but is used from outside Python's view of the package, each with
# the reason it stays. vulture reads this file as code that uses these names; nothing runs it.
# .ci/run: vulture syncer .ci/vulture_whitelist.py --min-confidence 60 --ignore-decorators "@*.command,@*.group"
# (click commands are used by being registered, hence the ignored decorators).
# ruff: noqa
_ = object()

# cli/output.py: the io protocol of the stream click writes to (it asks whether the stream is writable).
_.writable

# cli/main.py: click.Group methods click calls (the lazy group lists its commands from a table).
_.list_commands
_.format_commands

# emulator/: the emulator's Python test interface, documented in docs/emulator.md and used by the tests.
_.issue_token  # Emulator.issue_token: a tenant token without an HTTP round trip
_.rate_count  # Emulator.rate_count: the accepted requests in the current window
_.wait_committed  # Hold.wait_committed: the held import is stored
_.hold_next  # FaultInjector.hold_next: park the next committed import (a deterministic kill point)
_.add_commit_hook  # FaultInjector.add_commit_hook: run code right after a commit (a simulated crash)
_.remove_commit_hook
_.with_switches  # Tenant.with_switches: a tenant with other behaviour switches
_.ENDPOINTS  # emulator.tenant.ENDPOINTS: checked against the tenant schema's rate-limit keys

# emulator/server.py, emulator/transport.py: attributes and methods the standard library and httpx call.
_.protocol_version  # BaseHTTPRequestHandler
_.server_version
_.sys_version
_.log_message
_.close_connection
_.do_DELETE
_.do_GET
_.do_HEAD
_.do_PATCH
_.do_POST
_.do_PUT
_.daemon_threads  # ThreadingHTTPServer
_.allow_reuse_address
_.address_family
_.handle_async_request  # httpx.AsyncBaseTransport

# emulator/store.py, emulator/tenant.py, feishu/records.py: fields of Feishu's records, kept as its documents
# give them (a stored value's time, a user's other IDs, a metric's origin, a reviewee's profile link).
_.updated_at
_.created_at
_.union_id
_.people_admin_id
_.add_from
_.is_from_library
_.stage_statuses
_.reviewprofile_url

# load/validate.py: ValidationResult.cached_files, how many files the check cache answered (its tests read it).
_.cached_files

# sheet/xlsx.py: attributes of openpyxl's objects, set for the workbook it writes.
_.font
_.freeze_panes
_.errorStyle
_.showErrorMessage
_.errorTitle
_.sheet_state
_.protection  # a sheet's and a cell's (syncer.sheet.protect: what may not change is locked)
# sheet/styles.py, sheet/legend.py: how the workbook looks and prints (syncer.sheet.look).
_.alignment
_.orientation
_.fitToWidth
_.fitToHeight
_.pageSetUpPr
_.print_title_rows
_.gridLines
_._values_to_row  # sheet/styles.py: a write-only sheet takes the cells appended as placed (no value lookup)
_.write_dimensions  # sheet/styles.py: the writer of an exported sheet writes its <dimension> (write-only mode does not)

# state/postgres/schema.py: schema_sql(), the DDL a DBA runs by hand (docs/state.md, "The postgres backend").
_.schema_sql
